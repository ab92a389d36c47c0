-- Recompute the estimates of the given incidents from their tallies, in the caller's transaction.
-- low = smallest low; high = largest high; best = the preferred tally's, else the one from the most
-- recently published report (ties: the later report, then the later tally); source_count = distinct sources.
CREATE OR REPLACE FUNCTION casualties_refresh_estimates(incident_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF incident_ids IS NULL OR cardinality(incident_ids) = 0 THEN
    RETURN;
  END IF;
  -- Serialise concurrent refreshes of one incident; NO KEY UPDATE does not block tally inserts' FK checks.
  PERFORM 1 FROM casualties_incident WHERE id = ANY(incident_ids) ORDER BY id FOR NO KEY UPDATE;
  DELETE FROM casualties_estimate WHERE incident_id = ANY(incident_ids);
  INSERT INTO casualties_estimate (incident_id, outcome, status, casualty_group, low, best, high, source_count, best_tally_id)
  SELECT t.incident_id, t.outcome, t.status, t.casualty_group,
         min(t.low), (array_agg(t.best ORDER BY t.is_preferred DESC, r.published_on DESC, t.report_id DESC, t.id DESC))[1],
         max(t.high), count(DISTINCT t.source_id),
         (array_agg(t.id ORDER BY t.is_preferred DESC, r.published_on DESC, t.report_id DESC, t.id DESC))[1]
    FROM casualties_casualtytally t
    JOIN sources_report r ON r.id = t.report_id
   WHERE t.incident_id = ANY(incident_ids)
   GROUP BY t.incident_id, t.outcome, t.status, t.casualty_group;
END;
$$;
