"""Pieces several casualty models share."""

from django.db.models import Q

# Every create, change and delete of a tracked model is written by a database trigger,
# so bulk updates, the shell and raw SQL are recorded as well as the admin and the API.
from core.models import ChecksInOneQuery, audited, touch_updated_at  # noqa: F401


def point_valid(prefix: str = "") -> Q:
    """Latitude and longitude both set and in range, or both empty."""
    lat, lon = f"{prefix}latitude", f"{prefix}longitude"
    both_empty = Q(**{f"{lat}__isnull": True, f"{lon}__isnull": True})
    # NULL makes a range comparison unknown, which a CHECK accepts: say "not null" outright.
    both_valid = Q(
        **{f"{lat}__isnull": False, f"{lon}__isnull": False},
        **{f"{lat}__gte": -90, f"{lat}__lte": 90, f"{lon}__gte": -180, f"{lon}__lte": 180},
    )
    return both_empty | both_valid
