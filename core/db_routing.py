"""Where each query goes when a hot standby is configured (DATABASE_REPLICA_URL): every routing decision is here.

Writes always go to the primary (``default``). Reads go to the primary too, except in an API request with a safe
method (GET, HEAD, OPTIONS), whose reads -- lists, details, aggregates and exports -- go to the standby
(``replica``). Three exceptions keep what a caller reads consistent with what the primary holds:

- Read your own writes: after a caller's write (an API or admin POST, PUT, PATCH or DELETE that succeeded), the
  primary's WAL position is remembered for that caller (a signed cookie, and for a client sending an
  Authorization header also the cache under a key derived from it). Their next reads go to the primary until the
  standby has replayed past that position (``pg_last_wal_replay_lsn()``); then the standby serves them again.
- A read inside a transaction open on the primary (a service's ``select_for_update``, a size check inside a
  write) stays on the primary.
- A view may say it reads the primary (``reads_primary = True`` on a DRF view): what it shows was just written by
  the service itself (an export's receipt).
- A standby that cannot be reached: the primary serves the read.

The admin, management commands and anything outside a request read the primary. Without DATABASE_REPLICA_URL
nothing here changes any query.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from rest_framework.views import APIView

PRIMARY = "default"
REPLICA = "replica"

# How long a caller's reads may stay pinned to the primary after a write; the standby normally replays within a
# second, so the pin is dropped long before, at the first read that finds the standby past the write.
PIN_SECONDS = 300
PIN_COOKIE = "read_after_lsn"
PIN_SALT = "core.db_routing.pin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Bookkeeping that must never be read stale: the shared cache (throttle counters, read-your-writes pins), login
# lockouts, one-time-code devices (a stale device could take one code twice).
PRIMARY_ONLY_APPS = frozenset({"django_cache", "axes", "otp_totp", "otp_static"})

_reads: ContextVar[str] = ContextVar("db_reads", default=PRIMARY)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def export_servers() -> list[str]:
    """The databases an export may stream from."""
    return [PRIMARY, REPLICA] if replica_configured() else [PRIMARY]


def read_alias() -> str:
    """The database that reads go to now: the standby when the request may read it and no transaction is open on
    the primary; else the primary. Raw SQL reads run on ``connections[read_alias()]``."""
    if _reads.get() == REPLICA and replica_configured() and not connections[PRIMARY].in_atomic_block:
        return REPLICA
    return PRIMARY


class PrimaryReplicaRouter:
    """Django's database router (DATABASE_ROUTERS): reads follow ``read_alias()``, writes and migrations the
    primary. The standby is a copy of the primary, so rows from either may be related."""

    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


class ReadRoutingMiddleware:
    """Sends the reads of a safe API request to the standby unless the caller's own write is not there yet, and
    remembers the primary's WAL position after a caller's write. Listed before SessionMiddleware, so that the
    position is taken after the session is saved (a login is a write too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        token = _reads.set(PRIMARY)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if request.method not in SAFE_METHODS and response.status_code < 400:
            remember_write(request, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if replica_configured() and may_read_replica(request, view_func) and replica_has(pinned_lsn(request)):
            _reads.set(REPLICA)


def may_read_replica(request, view_func) -> bool:
    """A safe request to an API view that does not ask for the primary."""
    view_class = getattr(view_func, "cls", None)
    return (
        request.method in SAFE_METHODS
        and isinstance(view_class, type)
        and issubclass(view_class, APIView)
        and not getattr(view_class, "reads_primary", False)
    )


def _cache_key(request) -> str | None:
    authorization = request.headers.get("Authorization")
    if not authorization:
        return None
    return "db-pin:" + hashlib.sha256(authorization.encode()).hexdigest()


def pinned_lsn(request) -> str | None:
    """The primary's WAL position after the caller's last write, while it is remembered."""
    lsns = [request.get_signed_cookie(PIN_COOKIE, default=None, salt=PIN_SALT, max_age=PIN_SECONDS)]
    key = _cache_key(request)
    if key is not None:
        lsns.append(cache.get(key))
    lsns = [lsn for lsn in lsns if lsn]
    return max(lsns, key=_lsn_value) if lsns else None


def _lsn_value(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def replica_has(lsn: str | None) -> bool:
    """Whether the standby answers and has replayed the primary's WAL up to ``lsn`` (None: nothing to wait for).
    A standby that cannot be reached has not: the primary serves the read."""
    replica = connections[REPLICA]
    try:
        if lsn is None:
            replica.ensure_connection()  # the connection the request's reads then use
            return True
        with replica.cursor() as cursor:
            cursor.execute("SELECT COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [lsn])
            return cursor.fetchone()[0]
    except DatabaseError:
        replica.close()
        return False


def remember_write(request, response) -> None:
    """Pin the caller's reads to the primary until the standby has replayed the WAL written so far."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        [lsn] = cursor.fetchone()
    response.set_signed_cookie(
        PIN_COOKIE,
        lsn,
        salt=PIN_SALT,
        max_age=PIN_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    key = _cache_key(request)
    if key is not None:
        cache.set(key, lsn, PIN_SECONDS)
