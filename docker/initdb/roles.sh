#!/bin/sh
# The database service's two roles (README, "Database roles"), created on its first start
# (/docker-entrypoint-initdb.d) by the server's superuser: the owner of the database and its schema,
# which migrates it, and the service's own role, a login that owns nothing. Roles that exist already
# are left as they are, so the script can be run again by hand:
#   docker compose exec db /docker-entrypoint-initdb.d/roles.sh
set -eu
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v owner="$DATABASE_OWNER_USER" -v owner_password="$DATABASE_OWNER_PASSWORD" \
  -v service="$DATABASE_SERVICE_USER" -v service_password="$DATABASE_SERVICE_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
              :'owner', :'owner_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT'
              ' PASSWORD %L', :'service', :'service_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'service') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
-- Nobody else creates objects in the schema (the default since PostgreSQL 15).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
