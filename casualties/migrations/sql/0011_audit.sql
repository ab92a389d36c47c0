-- The audit trail is append-only: no UPDATE, DELETE or TRUNCATE of an audit event, by anyone. These triggers
-- are plain PostgreSQL triggers (not pgtrigger's), so no session setting switches them off; only a superuser's
-- session_replication_role = replica does, which the service's own database account cannot set.

CREATE OR REPLACE FUNCTION casualties_audit_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % of % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Audit events are never changed or deleted; a correction is a new change to the record itself.';
END;
$$;

-- Protect one event table (idempotent); migrations call it for every audit event table.
CREATE OR REPLACE FUNCTION casualties_audit_protect(event_table regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP TRIGGER IF EXISTS casualties_audit_append_only ON %s', event_table);
  EXECUTE format('CREATE TRIGGER casualties_audit_append_only BEFORE UPDATE OR DELETE ON %s'
                 ' FOR EACH ROW EXECUTE FUNCTION casualties_audit_refuse()', event_table);
  EXECUTE format('DROP TRIGGER IF EXISTS casualties_audit_no_truncate ON %s', event_table);
  EXECUTE format('CREATE TRIGGER casualties_audit_no_truncate BEFORE TRUNCATE ON %s'
                 ' FOR EACH STATEMENT EXECUTE FUNCTION casualties_audit_refuse()', event_table);
END;
$$;
