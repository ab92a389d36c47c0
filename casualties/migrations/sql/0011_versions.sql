-- An incident's version rises once per write, whatever the write touched: the incident row itself, its
-- figures or its actors. A write is one call of the service layer (which names itself in the
-- transaction-local setting casualties.write) or, for any other path, one SQL statement.

-- The mark of the write in progress.
CREATE OR REPLACE FUNCTION casualties_write_mark() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(nullif(current_setting('casualties.write', true), ''),
                  'statement:' || txid_current()::text || '@' || statement_timestamp()::text)
$$;

-- Raise the version of these incidents unless this write raised it already; one index probe per incident.
-- Only version, version_mark and updated_at change, so the incident's own version trigger stays out of it.
CREATE OR REPLACE FUNCTION casualties_raise_incident_versions(incident_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  mark text := casualties_write_mark();
BEGIN
  UPDATE casualties_incident
     SET version = version + 1, version_mark = mark, updated_at = now()
   WHERE id = ANY(incident_ids) AND version_mark IS DISTINCT FROM mark;
END;
$$;

-- Statement-level trigger function for the rows that belong to an incident (figures, actor roles).
CREATE OR REPLACE FUNCTION casualties_incident_part_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM casualties_raise_incident_versions(ARRAY(
      SELECT DISTINCT incident_id FROM new_rows WHERE incident_id IS NOT NULL ORDER BY 1));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM casualties_raise_incident_versions(ARRAY(
      SELECT DISTINCT incident_id FROM old_rows WHERE incident_id IS NOT NULL ORDER BY 1));
  ELSE
    PERFORM casualties_raise_incident_versions(ARRAY(
      SELECT DISTINCT x.incident_id
        FROM old_rows o JOIN new_rows n ON n.id = o.id
       CROSS JOIN LATERAL (VALUES (o.incident_id), (n.incident_id)) AS x (incident_id)
       WHERE x.incident_id IS NOT NULL AND o IS DISTINCT FROM n
       ORDER BY 1));
  END IF;
  RETURN NULL;
END;
$$;

DO $$
DECLARE
  tbl text;
BEGIN
  FOREACH tbl IN ARRAY ARRAY['casualties_casualtytally', 'casualties_incidentactor'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS casualties_version_on_insert ON %I', tbl);
    EXECUTE format('CREATE TRIGGER casualties_version_on_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION casualties_incident_part_changed()', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS casualties_version_on_update ON %I', tbl);
    EXECUTE format('CREATE TRIGGER casualties_version_on_update AFTER UPDATE ON %I'
                   ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION casualties_incident_part_changed()', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS casualties_version_on_delete ON %I', tbl);
    EXECUTE format('CREATE TRIGGER casualties_version_on_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION casualties_incident_part_changed()', tbl);
  END LOOP;
END $$;
