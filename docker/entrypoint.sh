#!/bin/sh
# Container start: wait for PostgreSQL, bring the schema and the reference data up to date,
# then run the given command (the image's CMD: gunicorn) as PID 1 so it receives signals.
# Both steps are idempotent, so every restart runs them. migrate connects as the schema's owner
# (DATABASE_OWNER_URL) and seed as the service role (DATABASE_URL); the server gets only the latter.
set -eu
cd "$(dirname "$0")/.."

python docker/wait_for_db.py
python manage.py migrate --noinput
python manage.py seed
unset DATABASE_OWNER_URL

exec "$@"
