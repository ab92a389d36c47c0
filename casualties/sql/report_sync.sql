-- A report's source and publication date feed its tallies' copies and the estimates; keep them in step.
-- Bounded by that report's figures (tallies by report_id, their incidents' estimates by incident_id), whatever
-- the size of the tables.
CREATE OR REPLACE FUNCTION casualties_report_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE casualties_casualtytally SET source_id = NEW.source_id
   WHERE report_id = NEW.id AND source_id IS DISTINCT FROM NEW.source_id;
  PERFORM casualties_refresh_estimates(ARRAY(
    SELECT DISTINCT incident_id FROM casualties_casualtytally WHERE report_id = NEW.id AND incident_id IS NOT NULL));
  RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS casualties_report_changed ON sources_report;
CREATE TRIGGER casualties_report_changed
  AFTER UPDATE OF source_id, published_on ON sources_report
  FOR EACH ROW WHEN (OLD.source_id IS DISTINCT FROM NEW.source_id OR OLD.published_on IS DISTINCT FROM NEW.published_on)
  EXECUTE FUNCTION casualties_report_changed();
