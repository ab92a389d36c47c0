"""Who may call what: the admin's role rules (casualties.roles) applied to the API, and the throttles.

Reads are open to everyone, scoped by each view's queryset to what the caller may see; writes
need a token (or session) and the role's add/change permission on the model (DRF's
DjangoModelPermissionsOrAnonReadOnly), plus the object rules below.
"""

from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissionsOrAnonReadOnly
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from ..roles import can_change_figures, can_change_incident, can_change_period_total


class IncidentPermissions(DjangoModelPermissionsOrAnonReadOnly):
    """Editing an incident follows the admin: data entry edits their own drafts, reviewers anything."""

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or can_change_incident(request.user, obj)


class TallyPermissions(DjangoModelPermissionsOrAnonReadOnly):
    """A figure about an incident is edited by whoever may edit the incident; an existing period total, a public
    figure from the moment it is entered, by a reviewer."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if obj.incident_id is None:
            self.message = (
                "A period total is a public figure from the moment it is entered: a reviewer corrects or deletes it."
            )
            return can_change_period_total(request.user)
        return can_change_figures(request.user, obj.incident)


class CurrentRateMixin:
    """Read the rate when the request arrives, so a changed setting applies without a restart."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(CurrentRateMixin, AnonRateThrottle):
    pass


class UserThrottle(CurrentRateMixin, UserRateThrottle):
    """Per token user; anonymous clients are AnonThrottle's alone (one counter per request, not two)."""

    def get_cache_key(self, request, view) -> str | None:
        return super().get_cache_key(request, view) if request.user and request.user.is_authenticated else None
