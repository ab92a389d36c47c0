"""Container health probe: GET /healthz on the local server; exit 0 only on 200 with status "ok" (or "degraded":
the hot standby is unreachable and the primary serves the reads).

The request carries a Host header from DJANGO_ALLOWED_HOSTS, because production settings
answer 400 to any other host, 127.0.0.1 included. Standard library only.
"""

import http.client
import json
import os
import sys


def probe_host(allowed_hosts: str) -> str:
    """A host name that DJANGO_ALLOWED_HOSTS accepts: its first entry, made concrete."""
    first = next((host.strip() for host in allowed_hosts.split(",") if host.strip()), "localhost")
    if first == "*":
        return "localhost"
    return first.lstrip("*").lstrip(".") or "localhost"


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    host = probe_host(os.environ.get("DJANGO_ALLOWED_HOSTS", ""))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": host})
        response = connection.getresponse()
        body = response.read()
    except OSError as exc:
        print(f"healthz unreachable: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f"healthz answered {response.status}: {body[:200]!r}", file=sys.stderr)
        return 1
    return 0 if json.loads(body).get("status") in ("ok", "degraded") else 1


if __name__ == "__main__":
    sys.exit(main())
