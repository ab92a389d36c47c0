"""What every write service shares: one transaction, and a mark that names the write in the database.

The mark (the transaction-local setting ``casualties.write``) lets the database raise an incident's version
once per write however many of its rows the write touches: the incident, its figures, its actors. A service
called by another service belongs to the caller's write. Writes outside the services are marked by their
transaction (casualties/sql/versions.sql).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.db import connection, transaction

P = ParamSpec("P")
R = TypeVar("R")

_in_write: ContextVar[bool] = ContextVar("casualties_in_write", default=False)


@contextmanager
def write_scope() -> Iterator[None]:
    """One write: atomic, and named in the database so that an incident's version rises once within it. Inside
    another write it joins that one (a form page that saves an incident and its figures is one write)."""
    if _in_write.get():
        with transaction.atomic():
            yield
        return
    token = _in_write.set(True)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('casualties.write', %s, true)", [uuid.uuid4().hex])
            yield
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('casualties.write', '', true)")
    finally:
        _in_write.reset(token)


def write_service(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` as one write (or as part of the write that called it): see ``write_scope``."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with write_scope():
            return func(*args, **kwargs)

    return wrapper
