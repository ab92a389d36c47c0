"""The write path: every create, change and delete of domain records goes through these functions.

The admin, the API, the importers and the management commands call them; each takes the acting user
(where a person acts), keyword-only arguments, and raises typed errors the callers translate
(core.services: NotAllowed, Invalid, Stale, AlreadyExists).
"""

from sources.services import report_create, report_update

from .base import write_scope, write_service
from .estimates import estimates_rebuild, estimates_refresh, summary_drift, summary_rebuild, summary_suspend
from .incidents import (
    StaleVersionError,
    incident_actors_set,
    incident_create,
    incident_save,
    incident_touch,
    incident_transition,
    incident_update,
    lock_current_version,
)
from .merge import MergeRefused, incident_merge
from .periods import period_total_errors
from .tallies import (
    incident_figures_save,
    subgroup_errors,
    tally_check_read,
    tally_create,
    tally_delete,
    tally_update,
)

__all__ = [
    "MergeRefused",
    "StaleVersionError",
    "estimates_rebuild",
    "estimates_refresh",
    "incident_actors_set",
    "incident_create",
    "incident_figures_save",
    "incident_merge",
    "incident_save",
    "incident_touch",
    "incident_transition",
    "incident_update",
    "lock_current_version",
    "period_total_errors",
    "report_create",
    "report_update",
    "subgroup_errors",
    "summary_drift",
    "summary_rebuild",
    "summary_suspend",
    "tally_check_read",
    "tally_create",
    "tally_delete",
    "tally_update",
    "write_scope",
    "write_service",
]
