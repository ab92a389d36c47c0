-- The aggregate summary: sums over the public set (verified incidents not merged into another), kept
-- current in the writing transaction by the triggers at the end of this file, so the common aggregate
-- requests read a few thousand cells instead of a million incidents (casualties.selectors.summary_aggregate).
--
-- A cell (casualties_summarycell) is one grain x figure x path x bucket:
--   grain   'day': bucket is the incident's date_start; 'week': the Monday of its ISO week; 'month': the
--           first day of its month.
--   path    the path of the incident's region cut at admin2 (SYR/SY07/SY0700/); a coarser region keeps its
--           own path; level is the cut path's level.
--   figure  '' for the incident count; 'outcome/status/group' (killed/civilian/all) for the estimates of
--           that key; status 'all' for the estimates of every status added up per incident.
--   incidents: incidents in the cell (with a figure of that key, in a figure cell); low/best/high: sums.
-- The invariant, checked by tests and by generate_synthetic: the table equals casualties_summary_expected().

DO $$ BEGIN
  CREATE TYPE casualties_summary_incident AS (id bigint, day date, path varchar, sign integer);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

DO $$ BEGIN
  CREATE TYPE casualties_summary_delta AS (
    path varchar, day date, figure varchar, incidents integer, low bigint, best bigint, high bigint);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- A region path cut at admin2: the first three elements, or all of a shorter path.
CREATE OR REPLACE FUNCTION casualties_summary_path(path varchar) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT substring(path FROM '^(?:[^/]+/){1,3}')::varchar $$;

-- What incidents add to the cells (sign 1) or take away (sign -1): a count, and each of their current estimates,
-- per status and added up over the statuses.
CREATE OR REPLACE FUNCTION casualties_summary_incident_deltas(incidents casualties_summary_incident[])
RETURNS SETOF casualties_summary_delta
LANGUAGE sql STABLE AS $$
  WITH x AS (SELECT id, day, casualties_summary_path(path) AS path, sign FROM unnest(incidents)),
  e AS (
    SELECT x.id, x.day, x.path, x.sign, e.outcome, e.status, e.casualty_group,
           e.low::bigint AS low, e.best::bigint AS best, e.high::bigint AS high
      FROM x JOIN casualties_estimate e ON e.incident_id = x.id
  )
  SELECT path, day, ''::varchar, sign, 0::bigint, 0::bigint, 0::bigint FROM x
  UNION ALL
  SELECT path, day, (outcome || '/' || status || '/' || casualty_group)::varchar, sign,
         sign * low, sign * best, sign * high
    FROM e
  UNION ALL
  SELECT path, day, (outcome || '/all/' || casualty_group)::varchar, sign,
         sign * sum(low), sign * sum(best), sign * sum(high)
    FROM e GROUP BY id, day, path, sign, outcome, casualty_group
$$;

-- The cells of every grain that a day falls in.
CREATE OR REPLACE FUNCTION casualties_summary_buckets(day date) RETURNS TABLE (grain varchar, bucket date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  VALUES ('day'::varchar, day), ('week'::varchar, date_trunc('week', day::timestamp)::date),
         ('month'::varchar, date_trunc('month', day::timestamp)::date)
$$;

-- The level of a cut path: SYR/SY07/ is 1.
CREATE OR REPLACE FUNCTION casualties_summary_level(path varchar) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (length(path) - length(replace(path, '/', '')) - 1)::smallint $$;

-- Deltas summed into cells of every grain.
CREATE OR REPLACE FUNCTION casualties_summary_group(deltas casualties_summary_delta[])
RETURNS TABLE (grain varchar, figure varchar, path varchar, bucket date, level smallint,
               incidents integer, low bigint, best bigint, high bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT g.grain, d.figure, d.path, g.bucket, casualties_summary_level(d.path),
         sum(d.incidents)::integer, sum(d.low)::bigint, sum(d.best)::bigint, sum(d.high)::bigint
    FROM unnest(deltas) d CROSS JOIN LATERAL casualties_summary_buckets(d.day) g
   GROUP BY g.grain, d.figure, d.path, g.bucket
$$;

-- Add deltas to the cells: a cell whose count and sums all come to 0 is removed, the others are added to or
-- created. Cells are written in key order, so two transactions touching the same cells wait for each other
-- rather than deadlock within one statement.
CREATE OR REPLACE FUNCTION casualties_summary_apply(deltas casualties_summary_delta[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF deltas IS NULL OR cardinality(deltas) = 0 THEN
    RETURN;
  END IF;
  WITH g AS MATERIALIZED (
    SELECT * FROM casualties_summary_group(deltas) d
     WHERE d.incidents <> 0 OR d.low <> 0 OR d.best <> 0 OR d.high <> 0
  ),
  gone AS (
    DELETE FROM casualties_summarycell c USING g
     WHERE c.grain = g.grain AND c.figure = g.figure AND c.path = g.path AND c.bucket = g.bucket
       AND c.incidents + g.incidents = 0 AND c.low + g.low = 0 AND c.best + g.best = 0 AND c.high + g.high = 0
    RETURNING c.grain, c.figure, c.path, c.bucket
  )
  INSERT INTO casualties_summarycell AS c (grain, figure, path, bucket, level, incidents, low, best, high)
  SELECT g.* FROM g
   WHERE NOT EXISTS (SELECT 1 FROM gone x
                      WHERE x.grain = g.grain AND x.figure = g.figure AND x.path = g.path AND x.bucket = g.bucket)
   ORDER BY g.grain, g.figure, g.path, g.bucket
  ON CONFLICT (grain, figure, path, bucket) DO UPDATE
     SET incidents = c.incidents + EXCLUDED.incidents, low = c.low + EXCLUDED.low,
         best = c.best + EXCLUDED.best, high = c.high + EXCLUDED.high;
END;
$$;

CREATE OR REPLACE FUNCTION casualties_summary_incidents_changed(incidents casualties_summary_incident[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF incidents IS NULL OR cardinality(incidents) = 0 THEN
    RETURN;
  END IF;
  PERFORM casualties_summary_apply(ARRAY(SELECT d FROM casualties_summary_incident_deltas(incidents) d));
END;
$$;

-- The cells as they should be, computed from the incidents and estimates alone: the deltas of
-- casualties_summary_incident_deltas() for every public incident, said as one set-based query (never one value
-- holding them all), summed per day first and the day cells into weeks and months, so that memory stays within
-- work_mem (sorts, hashes and aggregates spill to disk) whatever the number of incidents.
CREATE OR REPLACE FUNCTION casualties_summary_expected()
RETURNS TABLE (grain varchar, figure varchar, path varchar, bucket date, level smallint,
               incidents integer, low bigint, best bigint, high bigint)
LANGUAGE sql STABLE AS $$
  WITH x AS MATERIALIZED (
    SELECT i.id, i.date_start AS day, casualties_summary_path(r.path) AS path
      FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
     WHERE i.status = 'verified' AND i.duplicate_of_id IS NULL
  ),
  e AS MATERIALIZED (
    SELECT x.id, x.day, x.path, e.outcome, e.status, e.casualty_group,
           e.low::bigint AS low, e.best::bigint AS best, e.high::bigint AS high
      FROM x JOIN casualties_estimate e ON e.incident_id = x.id
  ),
  days AS (
    SELECT path, day, ''::varchar AS figure, count(*) AS incidents, 0::numeric AS low, 0::numeric AS best,
           0::numeric AS high
      FROM x GROUP BY path, day
    UNION ALL
    SELECT path, day, (outcome || '/' || status || '/' || casualty_group)::varchar, count(*),
           sum(low), sum(best), sum(high)
      FROM e GROUP BY path, day, outcome, status, casualty_group
    UNION ALL
    SELECT path, day, (outcome || '/all/' || casualty_group)::varchar, count(DISTINCT id),
           sum(low), sum(best), sum(high)
      FROM e GROUP BY path, day, outcome, casualty_group
  )
  SELECT g.grain, d.figure, d.path, g.bucket, casualties_summary_level(d.path),
         sum(d.incidents)::integer, sum(d.low)::bigint, sum(d.best)::bigint, sum(d.high)::bigint
    FROM days d CROSS JOIN LATERAL casualties_summary_buckets(d.day) g
   GROUP BY g.grain, d.figure, d.path, g.bucket
$$;

-- Upkeep can be suspended for the rest of a transaction that ends by rebuilding the summary (a repair that
-- rewrites every estimate, say, when the cells may already be wrong): casualties_summary_suspend() stops the
-- triggers below from touching the cells, casualties_summary_rebuild() starts them again.
CREATE OR REPLACE FUNCTION casualties_summary_suspend() RETURNS void
LANGUAGE sql AS $$ SELECT set_config('casualties.summary_upkeep', 'off', true) $$;

CREATE OR REPLACE FUNCTION casualties_summary_suspended() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('casualties.summary_upkeep', true), '') = 'off' $$;

-- Throw the cells away and compute them again (after a load with triggers off); returns the number of cells.
-- TRUNCATE rather than DELETE: the old cells leave no dead rows behind, and readers wait for the new ones.
CREATE OR REPLACE FUNCTION casualties_summary_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  cells bigint;
BEGIN
  TRUNCATE casualties_summarycell;
  INSERT INTO casualties_summarycell (grain, figure, path, bucket, level, incidents, low, best, high)
  SELECT * FROM casualties_summary_expected() ORDER BY 1, 2, 3, 4;
  GET DIAGNOSTICS cells = ROW_COUNT;
  PERFORM set_config('casualties.summary_upkeep', 'on', true);
  RETURN cells;
END;
$$;

-- The number of cells that differ from casualties_summary_expected() (0 when the summary is current): a cell
-- missing on either side counts 1, a cell with other values 2 (the wrong one and the right one). One join on the
-- cell key, so memory stays bounded as for the expected cells themselves.
CREATE OR REPLACE FUNCTION casualties_summary_drift() RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(CASE WHEN a.grain IS NULL OR e.grain IS NULL THEN 1 ELSE 2 END), 0)::bigint
    FROM casualties_summary_expected() e
    FULL JOIN casualties_summarycell a
      ON a.grain = e.grain AND a.figure = e.figure AND a.path = e.path COLLATE "C" AND a.bucket = e.bucket
   WHERE a.grain IS NULL OR e.grain IS NULL
      OR (a.level, a.incidents, a.low, a.best, a.high) IS DISTINCT FROM (e.level, e.incidents, e.low, e.best, e.high)
$$;

-- ------------------------------------------------------------------ triggers

-- Every cell written holds incidents, with ordered sums (none on a count cell). Not a CHECK: an upsert's
-- candidate row carries the change (which may be negative), and a CHECK would judge that instead of the cell.
CREATE OR REPLACE FUNCTION casualties_summary_cell_refused() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'summary cell % % % % would hold % incidents and sums %/%/%: the summary has drifted from the data',
    NEW.grain, NEW.figure, NEW.path, NEW.bucket, NEW.incidents, NEW.low, NEW.best, NEW.high
    USING ERRCODE = 'check_violation', HINT = 'SELECT casualties_summary_rebuild() computes it again.';
END;
$$;
DROP TRIGGER IF EXISTS casualties_summary_cell_valid ON casualties_summarycell;
CREATE TRIGGER casualties_summary_cell_valid AFTER INSERT OR UPDATE ON casualties_summarycell
  FOR EACH ROW WHEN (NOT (NEW.incidents > 0 AND 0 <= NEW.low AND NEW.low <= NEW.best AND NEW.best <= NEW.high
                          AND (NEW.figure <> '' OR NEW.high = 0)))
  EXECUTE FUNCTION casualties_summary_cell_refused();

-- Every trigger below reads and writes only the rows of the statement's incidents (through their keys) and the
-- cells those fall in, whatever the size of the tables (tests/casualties/test_trigger_bounds.py).
-- Incidents: one entering the public set adds its count and its estimates; one leaving takes them away; one
-- moving in time or place (while public) is taken from its old cells and added to its new ones.
CREATE OR REPLACE FUNCTION casualties_summary_on_incident() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF casualties_summary_suspended() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM casualties_summary_incidents_changed(ARRAY(
      SELECT ROW(n.id, n.date_start, r.path, 1)::casualties_summary_incident
        FROM new_rows n JOIN casualties_region r ON r.id = n.region_id
       WHERE n.status = 'verified' AND n.duplicate_of_id IS NULL));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM casualties_summary_incidents_changed(ARRAY(
      SELECT ROW(o.id, o.date_start, r.path, -1)::casualties_summary_incident
        FROM old_rows o JOIN casualties_region r ON r.id = o.region_id
       WHERE o.status = 'verified' AND o.duplicate_of_id IS NULL));
  ELSE
    PERFORM casualties_summary_incidents_changed(ARRAY(
      SELECT ROW(c.id, c.day, r.path, c.sign)::casualties_summary_incident
        FROM old_rows o JOIN new_rows n ON n.id = o.id
       CROSS JOIN LATERAL (VALUES (o.id, o.date_start, o.region_id, -1, o.status = 'verified' AND o.duplicate_of_id IS NULL),
                                  (n.id, n.date_start, n.region_id, 1, n.status = 'verified' AND n.duplicate_of_id IS NULL))
             AS c (id, day, region_id, sign, public)
        JOIN casualties_region r ON r.id = c.region_id
       WHERE c.public
         AND ((o.status = 'verified' AND o.duplicate_of_id IS NULL) IS DISTINCT FROM
              (n.status = 'verified' AND n.duplicate_of_id IS NULL)
              OR o.date_start IS DISTINCT FROM n.date_start OR o.region_id IS DISTINCT FROM n.region_id)));
  END IF;
  RETURN NULL;
END;
$$;

-- Estimates: their changes go to the cells of their incident, if it is public. The per-status cells take the
-- difference of the rows; a status-'all' cell counts an incident while it has an estimate of any status, so its
-- count changes only when the first estimate of a key arrives or the last one goes.
CREATE OR REPLACE FUNCTION casualties_summary_estimates_changed(added casualties_estimate[], removed casualties_estimate[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM casualties_summary_apply(ARRAY(
    WITH ch AS (
      SELECT a.incident_id, a.outcome, a.status, a.casualty_group, 1 AS n,
             a.low::bigint AS low, a.best::bigint AS best, a.high::bigint AS high
        FROM unnest(added) a
      UNION ALL
      SELECT r.incident_id, r.outcome, r.status, r.casualty_group, -1, -r.low::bigint, -r.best::bigint, -r.high::bigint
        FROM unnest(removed) r
    ),
    inc AS (
      SELECT i.id, i.date_start AS day, casualties_summary_path(g.path) AS path
        FROM casualties_incident i JOIN casualties_region g ON g.id = i.region_id
       WHERE i.id IN (SELECT incident_id FROM ch) AND i.status = 'verified' AND i.duplicate_of_id IS NULL
    ),
    per_key AS (
      SELECT ch.incident_id, ch.outcome, ch.casualty_group, sum(ch.n) AS dn,
             sum(ch.low) AS low, sum(ch.best) AS best, sum(ch.high) AS high
        FROM ch GROUP BY ch.incident_id, ch.outcome, ch.casualty_group
    )
    SELECT ROW(inc.path, inc.day, (ch.outcome || '/' || ch.status || '/' || ch.casualty_group)::varchar,
               ch.n, ch.low, ch.best, ch.high)::casualties_summary_delta
      FROM ch JOIN inc ON inc.id = ch.incident_id
    UNION ALL
    SELECT ROW(inc.path, inc.day, (k.outcome || '/all/' || k.casualty_group)::varchar,
               (now.n > 0)::integer - ((now.n - k.dn) > 0)::integer, k.low, k.best, k.high)::casualties_summary_delta
      FROM per_key k JOIN inc ON inc.id = k.incident_id
     CROSS JOIN LATERAL (
       SELECT count(*) AS n FROM casualties_estimate e
        WHERE e.incident_id = k.incident_id AND e.outcome = k.outcome AND e.casualty_group = k.casualty_group
     ) now
  ));
END;
$$;

CREATE OR REPLACE FUNCTION casualties_summary_on_estimate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF casualties_summary_suspended() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM casualties_summary_estimates_changed(
      ARRAY(SELECT ROW(n.*)::casualties_estimate FROM new_rows n), '{}'::casualties_estimate[]);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM casualties_summary_estimates_changed(
      '{}'::casualties_estimate[], ARRAY(SELECT ROW(o.*)::casualties_estimate FROM old_rows o));
  ELSE
    PERFORM casualties_summary_estimates_changed(
      ARRAY(SELECT ROW(n.*)::casualties_estimate FROM new_rows n),
      ARRAY(SELECT ROW(o.*)::casualties_estimate FROM old_rows o));
  END IF;
  RETURN NULL;
END;
$$;

-- Regions: a change of path above admin2 moves the cells of the public incidents in the region: bounded by that
-- region's incidents (the region_id index), and nothing is read for a change that leaves the cut path alone.
CREATE OR REPLACE FUNCTION casualties_summary_on_region() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF casualties_summary_suspended() THEN
    RETURN NULL;
  END IF;
  PERFORM casualties_summary_incidents_changed(ARRAY(
    SELECT ROW(i.id, i.date_start, c.path, c.sign)::casualties_summary_incident
      FROM old_rows o JOIN new_rows n ON n.id = o.id
     CROSS JOIN LATERAL (VALUES (o.path, -1), (n.path, 1)) AS c (path, sign)
      JOIN casualties_incident i ON i.region_id = o.id
     WHERE casualties_summary_path(o.path) IS DISTINCT FROM casualties_summary_path(n.path)
       AND i.status = 'verified' AND i.duplicate_of_id IS NULL));
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS casualties_summary_incident_insert ON casualties_incident;
CREATE TRIGGER casualties_summary_incident_insert AFTER INSERT ON casualties_incident
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION casualties_summary_on_incident();
DROP TRIGGER IF EXISTS casualties_summary_incident_update ON casualties_incident;
CREATE TRIGGER casualties_summary_incident_update AFTER UPDATE ON casualties_incident
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION casualties_summary_on_incident();
DROP TRIGGER IF EXISTS casualties_summary_incident_delete ON casualties_incident;
CREATE TRIGGER casualties_summary_incident_delete AFTER DELETE ON casualties_incident
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION casualties_summary_on_incident();

DROP TRIGGER IF EXISTS casualties_summary_estimate_insert ON casualties_estimate;
CREATE TRIGGER casualties_summary_estimate_insert AFTER INSERT ON casualties_estimate
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION casualties_summary_on_estimate();
DROP TRIGGER IF EXISTS casualties_summary_estimate_update ON casualties_estimate;
CREATE TRIGGER casualties_summary_estimate_update AFTER UPDATE ON casualties_estimate
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION casualties_summary_on_estimate();
DROP TRIGGER IF EXISTS casualties_summary_estimate_delete ON casualties_estimate;
CREATE TRIGGER casualties_summary_estimate_delete AFTER DELETE ON casualties_estimate
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION casualties_summary_on_estimate();

DROP TRIGGER IF EXISTS casualties_summary_region_update ON casualties_region;
CREATE TRIGGER casualties_summary_region_update AFTER UPDATE ON casualties_region
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION casualties_summary_on_region();
