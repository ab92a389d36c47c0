"""How long the service waits on PostgreSQL, and its answer when the database cannot answer in time.

Each role of connection has its own limits (``settings.DATABASE_TIMEOUTS``): ``web`` for every request (the API and
the admin alike), ``export`` for the connection an export streams from, ``aggregate`` and ``healthz`` for their own
statements, ``command`` for management commands, which load and rebuild for minutes and get no statement limit.
The limits are given to PostgreSQL when the connection opens (libpq ``options``), so they cost no round trip.

A statement stopped by its limit, a lock not granted in time, and a database that is down or does not answer within
the connect timeout all become a 503 with ``Retry-After``: ``{"detail": ...}`` under ``/api/`` (core.api), a plain
page elsewhere (``DatabaseUnavailableMiddleware``, and ``server_error`` for what fails outside a view). Nothing a
request wrote is kept when it gets this answer, except a write whose commit the database confirmed just before the
connection was lost; a retried create is recognised (core.api).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

LOCK_MESSAGE = (
    "Another request is changing the records this one needs and did not release them within {lock_timeout}; "
    "nothing was changed. Try again in a few seconds."
)
STATEMENT_MESSAGE = (
    "The database took longer than {statement_timeout} to answer and the request was stopped; nothing was "
    "changed. Try again later, or narrow the request."
)
UNAVAILABLE_MESSAGE = "The database is unavailable; try again in a few seconds."


def connection_options(timeouts: Mapping[str, str], *, connect_timeout: int, options: str = "") -> dict:
    """The libpq parameters that give a new connection ``timeouts`` (PostgreSQL setting -> duration), after any
    ``options`` already given, and that stop waiting for the connection after ``connect_timeout`` seconds."""
    settings_options = " ".join(f"-c {name}={value}" for name, value in timeouts.items())
    return {"connect_timeout": connect_timeout, "options": f"{options} {settings_options}".strip()}


def role_connection_params(params: Mapping, role: str) -> dict:
    """Django's connection parameters ``params`` for a connection of ``role``: PostgreSQL applies ``-c`` options in
    order, so the role's limits, given last, replace the process's own."""
    return {
        **params,
        **connection_options(
            settings.DATABASE_TIMEOUTS[role],
            connect_timeout=settings.DATABASE_CONNECT_TIMEOUT,
            options=params.get("options", ""),
        ),
    }


def unavailable_message(exc: BaseException) -> str | None:
    """What a client is told when ``exc`` means the database could not answer in time; None for any other error."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    timeouts = settings.DATABASE_TIMEOUTS["web"]  # only requests are answered
    cause = exc.__cause__
    if isinstance(cause, psycopg.errors.LockNotAvailable):
        message = LOCK_MESSAGE.format(**timeouts)
    elif isinstance(cause, psycopg.errors.QueryCanceled):
        message = STATEMENT_MESSAGE.format(**timeouts)
    else:
        message = UNAVAILABLE_MESSAGE
    logger.warning("Database unavailable or too slow: %s: %s", type(cause or exc).__name__, str(exc).strip())
    return message


def retry_after() -> str:
    """The Retry-After of every such 503, in seconds."""
    return str(settings.DATABASE_RETRY_AFTER)


def unavailable_page(message: str) -> HttpResponse:
    """The plain page of a 503 outside the API. Rendered without the request: its context processors would ask the
    database who the user is."""
    page = render_to_string("database_unavailable.html", {"message": message})
    return HttpResponse(page, status=503, headers={"Retry-After": retry_after()})


def unavailable_answer(request, message: str) -> HttpResponse:
    """A 503 in the shape the caller reads: JSON under ``/api/``, the plain page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=503, headers={"Retry-After": retry_after()})
    return unavailable_page(message)


class DatabaseUnavailableMiddleware:
    """A view stopped because the database could not answer in time answers 503, not 500 (the API's own views answer
    through core.api.exception_handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = unavailable_message(exception)
        return None if message is None else unavailable_answer(request, message)


def server_error(request):
    """handler500: an error raised outside any view (a middleware saving the session, say) that means the database
    could not answer is a 503 too; any other error is Django's own 500 page."""
    message = unavailable_message(sys.exc_info()[1])
    if message is None:
        return django_server_error(request)
    return unavailable_answer(request, message)
