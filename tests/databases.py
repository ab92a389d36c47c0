"""The test database as another process reaches it."""

from urllib.parse import quote

from django.db import connection


def subprocess_database_url() -> str:
    """A DATABASE_URL of the test database, as the suite's own login, from the parameters the connection really
    uses: a TCP host, or the directory of a Unix socket (the embedded PostgreSQL)."""
    params = connection.get_connection_params()
    user = quote(params.get("user") or "", safe="")
    password = f":{quote(params['password'], safe='')}" if params.get("password") else ""
    host, port, name = params.get("host") or "", params.get("port") or 5432, params["dbname"]
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{name}?host={quote(host, safe='')}&port={port}"
    return f"postgres://{user}{password}@{quote(host, safe='')}:{port}/{name}"
