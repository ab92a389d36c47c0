-- The public set (casualties.models.incidents.PUBLIC_SET): the incidents that count in aggregates and exports.
-- SQL that selects or sums the public set calls this; being plain SQL and immutable, PostgreSQL inlines it, so a
-- query using it plans as if the condition were written out. tests/casualties/test_public_set.py holds it equal
-- to the Python definition.
CREATE OR REPLACE FUNCTION casualties_incident_is_public(status varchar, duplicate_of_id bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT status = 'verified' AND duplicate_of_id IS NULL $$;
