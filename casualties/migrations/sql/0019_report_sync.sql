-- A report's source and publication date feed its tallies' copies and the estimates; keep them in step. Any change
-- to a report (its source, date, address, title) changes what the figures citing it trace to, so the version of
-- every incident whose figures cite it rises, once per write (versions.sql), whichever path made the change.
-- Bounded by that report's figures (tallies by report_id, their incidents by id), whatever the size of the tables.
CREATE OR REPLACE FUNCTION casualties_report_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.source_id IS DISTINCT FROM NEW.source_id THEN
    UPDATE casualties_casualtytally SET source_id = NEW.source_id
     WHERE report_id = NEW.id AND source_id IS DISTINCT FROM NEW.source_id;
  END IF;
  IF OLD.source_id IS DISTINCT FROM NEW.source_id OR OLD.published_on IS DISTINCT FROM NEW.published_on THEN
    PERFORM casualties_refresh_estimates(ARRAY(
      SELECT DISTINCT incident_id FROM casualties_casualtytally WHERE report_id = NEW.id AND incident_id IS NOT NULL));
  END IF;
  PERFORM casualties_raise_incident_versions(ARRAY(
    SELECT DISTINCT incident_id FROM casualties_casualtytally
     WHERE report_id = NEW.id AND incident_id IS NOT NULL ORDER BY 1));
  RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS casualties_report_changed ON sources_report;
CREATE TRIGGER casualties_report_changed
  AFTER UPDATE ON sources_report
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
  EXECUTE FUNCTION casualties_report_changed();
