"""Every invariant of the casualty model as a count of the rows that break it, over the whole database.

The database enforces these with constraints and triggers; a load with triggers off skips the triggers
and the foreign keys, so after one every rule is counted again here. Each query must return 0.
"""

from __future__ import annotations

from django.db import connection

CHECKS: dict[str, str] = {
    "tally low <= best <= high": """
        SELECT count(*) FROM casualties_casualtytally WHERE NOT (0 <= low AND low <= best AND best <= high)""",
    "tally targets an incident, or a region over a period": """
        SELECT count(*) FROM casualties_casualtytally
         WHERE NOT ((incident_id IS NOT NULL AND region_id IS NULL AND reporting_period_id IS NULL)
                 OR (incident_id IS NULL AND region_id IS NOT NULL AND reporting_period_id IS NOT NULL))""",
    "tally cites an existing report of its source": """
        SELECT count(*) FROM casualties_casualtytally t LEFT JOIN sources_report r ON r.id = t.report_id
         WHERE r.id IS NULL OR r.source_id <> t.source_id""",
    "tally incident, region and period exist": """
        SELECT count(*) FROM casualties_casualtytally t
          LEFT JOIN casualties_incident i ON i.id = t.incident_id
          LEFT JOIN casualties_region g ON g.id = t.region_id
          LEFT JOIN casualties_reportingperiod p ON p.id = t.reporting_period_id
         WHERE (t.incident_id IS NOT NULL AND i.id IS NULL) OR (t.region_id IS NOT NULL AND g.id IS NULL)
            OR (t.reporting_period_id IS NOT NULL AND p.id IS NULL)""",
    "tally period is its reporting period's range": """
        SELECT count(*) FROM casualties_casualtytally t
          LEFT JOIN casualties_reportingperiod p ON p.id = t.reporting_period_id
         WHERE t.period IS DISTINCT FROM daterange(p.date_start, p.date_end, '[]')
           AND NOT (t.period IS NULL AND p.id IS NULL)""",
    "of-which figure within the all figure": """
        SELECT count(*) FROM casualties_casualtytally sub
          JOIN casualties_casualtytally total
            ON total.report_id = sub.report_id AND total.outcome = sub.outcome AND total.status = sub.status
           AND total.casualty_group = 'all' AND sub.casualty_group <> 'all'
           AND total.incident_id IS NOT DISTINCT FROM sub.incident_id
           AND total.region_id IS NOT DISTINCT FROM sub.region_id
           AND total.reporting_period_id IS NOT DISTINCT FROM sub.reporting_period_id
         WHERE sub.best > total.best OR sub.high > total.high""",
    "period totals of one source do not overlap": """
        SELECT count(*) FROM casualties_casualtytally a JOIN casualties_casualtytally b
            ON a.source_id = b.source_id AND a.region_id = b.region_id AND a.outcome = b.outcome
           AND a.status = b.status AND a.casualty_group = b.casualty_group AND a.period && b.period AND a.id < b.id
         WHERE a.region_id IS NOT NULL AND b.region_id IS NOT NULL""",
    "one figure per report, incident, outcome, status and group": """
        SELECT count(*) FROM (
          SELECT 1 FROM casualties_casualtytally WHERE incident_id IS NOT NULL
           GROUP BY report_id, incident_id, outcome, status, casualty_group HAVING count(*) > 1) d""",
    "at most one preferred figure per incident, outcome, status and group": """
        SELECT count(*) FROM (
          SELECT 1 FROM casualties_casualtytally WHERE is_preferred
           GROUP BY incident_id, outcome, status, casualty_group HAVING count(*) > 1) d""",
    "incident dates ordered and not in the future": """
        SELECT count(*) FROM casualties_incident
         WHERE date_start > date_end OR date_end > (now() + interval '14 hours')::date""",
    "incident region, type and duplicate exist": """
        SELECT count(*) FROM casualties_incident i
          LEFT JOIN casualties_region g ON g.id = i.region_id
          LEFT JOIN casualties_incidenttype k ON k.id = i.incident_type_id
          LEFT JOIN casualties_incident d ON d.id = i.duplicate_of_id
         WHERE g.id IS NULL OR k.id IS NULL OR (i.duplicate_of_id IS NOT NULL AND (d.id IS NULL OR d.id = i.id))""",
    "incident actor rows point at an incident and an actor": """
        SELECT count(*) FROM casualties_incidentactor x
          LEFT JOIN casualties_incident i ON i.id = x.incident_id LEFT JOIN casualties_actor a ON a.id = x.actor_id
         WHERE i.id IS NULL OR a.id IS NULL""",
    "report not published in the future": """
        SELECT count(*) FROM sources_report WHERE published_on > (now() + interval '14 hours')::date""",
    "estimates: one per figure key, low and high and sources from the tallies": """
        WITH t AS (
          SELECT incident_id, outcome, status, casualty_group, min(low) AS low, max(high) AS high,
                 count(DISTINCT source_id) AS sources
            FROM casualties_casualtytally WHERE incident_id IS NOT NULL
           GROUP BY incident_id, outcome, status, casualty_group)
        SELECT count(*) FROM t FULL JOIN casualties_estimate e USING (incident_id, outcome, status, casualty_group)
         WHERE e.id IS NULL OR t.incident_id IS NULL OR e.low <> t.low OR e.high <> t.high
            OR e.source_count <> t.sources OR NOT (e.low <= e.best AND e.best <= e.high)""",
    "estimates: best is the best of one of the key's tallies": """
        SELECT count(*) FROM casualties_estimate e LEFT JOIN casualties_casualtytally t ON t.id = e.best_tally_id
         WHERE t.id IS NULL OR t.incident_id <> e.incident_id OR t.outcome <> e.outcome OR t.status <> e.status
            OR t.casualty_group <> e.casualty_group OR t.best <> e.best""",
}


SUMMARY_CHECK = {"summary cells equal their incidents and estimates": "SELECT casualties_summary_drift()"}


def synthetic_check(*, summary: bool = True) -> dict[str, int]:
    """The number of rows breaking each invariant (all zero when the data is sound); ``summary``: also the
    aggregate summary cells that differ from a rebuild."""
    counts = {}
    with connection.cursor() as cursor:
        for name, sql in {**CHECKS, **(SUMMARY_CHECK if summary else {})}.items():
            cursor.execute(sql)
            counts[name] = cursor.fetchone()[0]
    return counts
