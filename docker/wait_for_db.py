"""Wait until the configured database accepts connections (the container entrypoint's first step).

Uses Django's own connection, so it reads DATABASE_URL exactly as the service will, and
fails at once, with the settings' message, when the configuration itself is wrong.
Gives up after DATABASE_WAIT_SECONDS (default 60) with exit status 1.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django

django.setup()

from django.db import OperationalError, connection  # noqa: E402


def wait_for_database(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if time.monotonic() >= deadline:
                print(f"Database still unreachable after {timeout:g}s: {exc}", file=sys.stderr)
                return False
            print("Waiting for the database...", file=sys.stderr)
            time.sleep(1)
        else:
            connection.close()
            return True


if __name__ == "__main__":
    sys.exit(0 if wait_for_database(float(os.environ.get("DATABASE_WAIT_SECONDS", "60"))) else 1)
