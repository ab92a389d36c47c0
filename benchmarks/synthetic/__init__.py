"""Synthetic data at scale, for benchmarks: incidents, reports, figures and period totals that look like a war.

Rows go in by COPY with the session in replica mode, so no trigger fires: no audit events (synthetic rows
are no one's entry) and no per-statement estimate upkeep. What those triggers would have written is
written here instead: each tally's copy of its report's source and of its period's range, the estimates
(by the SQL function the triggers call) and the aggregate summary (rebuilt). Every invariant is then
counted again (``synthetic_check``) in the same transaction, which keeps nothing if any is broken.

Synthetic rows are marked so they can be removed: incidents and reports by an ``external_id`` starting
``synthetic-`` and a title starting ``[synthetic]``, reporting periods by a label starting ``[synthetic]``.
The same seed and the same reference data give the same rows, database ids apart.
"""

from .checks import CHECKS, SUMMARY_CHECK, synthetic_check
from .load import SyntheticDataError, SyntheticResult, synthetic_count, synthetic_delete, synthetic_generate
from .rows import EXTERNAL_ID_PREFIX, TITLE_PREFIX

__all__ = [
    "CHECKS",
    "EXTERNAL_ID_PREFIX",
    "SUMMARY_CHECK",
    "TITLE_PREFIX",
    "SyntheticDataError",
    "SyntheticResult",
    "synthetic_check",
    "synthetic_count",
    "synthetic_delete",
    "synthetic_generate",
]
