"""The write path: every create, change and delete of domain records goes through these functions.

The admin, the API, the importers and the management commands call them; each takes the acting user
(where a person acts), keyword-only arguments, and raises typed errors the callers translate.
"""

from .base import write_scope, write_service
from .estimates import estimates_rebuild, estimates_refresh, summary_drift, summary_rebuild, summary_suspend
from .incidents import StaleVersionError, incident_save, incident_touch, incident_transition, lock_current_version
from .merge import MergeRefused, incident_merge

__all__ = [
    "MergeRefused",
    "StaleVersionError",
    "estimates_rebuild",
    "estimates_refresh",
    "incident_merge",
    "incident_save",
    "incident_touch",
    "incident_transition",
    "lock_current_version",
    "summary_drift",
    "summary_rebuild",
    "summary_suspend",
    "write_scope",
    "write_service",
]
