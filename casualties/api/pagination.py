"""Keyset cursor pagination: pages stay stable while rows are inserted or deleted.

A cursor holds the sort-key values of the row a page ended (or began) at, and the next page
is the rows strictly after it in the list's order, so a row inserted elsewhere never shifts a
page boundary. Every ordering ends in a unique column, so the key identifies one row.
"""

import base64
import binascii
import datetime
import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
BIGINT_MAX = 2**63 - 1


class KeysetCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.requested_page_size(request)
        self.ordering = ordering_of(queryset)
        cursor = self.decode_cursor(request, queryset.model)
        backwards = bool(cursor and cursor["backwards"])
        if cursor:
            queryset = queryset.filter(keyset_after(self.ordering, cursor["values"], backwards=backwards))
        queryset = queryset.order_by(*(invert(key) for key in self.ordering) if backwards else self.ordering)
        rows = list(queryset[: self.page_size + 1])
        has_more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        has_next, has_previous = (cursor is not None, has_more) if backwards else (has_more, cursor is not None)
        self.next_values = self.key_of(rows[-1]) if has_next and rows else None
        self.previous_values = self.key_of(rows[0]) if has_previous and rows else None
        return rows

    def requested_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}, not {raw!r}."]}
            )
        return int(raw)

    def key_of(self, row: models.Model) -> list:
        return [getattr(row, key.lstrip("-")) for key in self.ordering]

    def encode_cursor(self, values: list, *, backwards: bool) -> str:
        payload = {"o": self.ordering, "v": [_jsonable(v) for v in values], "b": backwards}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    def decode_cursor(self, request, model: type[models.Model]) -> dict[str, Any] | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        invalid = ValidationError({self.cursor_query_param: ["Not a cursor this list gave out; start again."]})
        try:
            payload = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
            ordering, raw_values, backwards = payload["o"], payload["v"], payload["b"]
        except (UnicodeError, binascii.Error, ValueError, TypeError, KeyError):
            raise invalid from None
        if ordering != self.ordering:
            raise ValidationError({self.cursor_query_param: ["This cursor belongs to a different ordering."]})
        if not isinstance(raw_values, list) or len(raw_values) != len(ordering) or not isinstance(backwards, bool):
            raise invalid
        try:
            values = [
                _field_value(model, key.lstrip("-"), value) for key, value in zip(ordering, raw_values, strict=True)
            ]
        except (DjangoValidationError, FieldDoesNotExist, TypeError, ValueError, OverflowError):
            raise invalid from None
        return {"values": values, "backwards": backwards}

    def link(self, values: list | None, *, backwards: bool) -> str | None:
        if values is None:
            return None
        url = remove_query_param(self.base_url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(values, backwards=backwards))

    def get_next_link(self) -> str | None:
        return self.link(self.next_values, backwards=False)

    def get_previous_link(self) -> str | None:
        return self.link(self.previous_values, backwards=True)

    def get_paginated_response(self, data) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page, or null on the last page."},
                "previous": {**link, "description": "The previous page, or null on the first page."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position in the list, from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


def ordering_of(queryset: QuerySet) -> list[str]:
    """The queryset's ORDER BY (explicit, else the model's default); it must end in a unique column."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    last = queryset.model._meta.get_field(ordering[-1].lstrip("-")) if ordering else None
    if last is None or not (last.primary_key or last.unique):
        raise AssertionError(f"{queryset.model.__name__} lists must be ordered by a key ending in a unique column.")
    return ordering


def invert(key: str) -> str:
    return key[1:] if key.startswith("-") else f"-{key}"


def keyset_after(ordering: list[str], values: list, *, backwards: bool) -> Q:
    """Rows strictly after ``values`` in ``ordering`` (before them when going backwards).

    The OR of "first key beyond, or equal and the next key beyond, ..." is ANDed with the redundant
    bound "first key at or beyond": PostgreSQL cannot start an index scan at an OR, but it can at that
    bound, so a page deep in a long list reads about as many rows as the first page.
    """
    condition = Q()
    equal_so_far = Q()
    for key, value in zip(ordering, values, strict=True):
        field = key.lstrip("-")
        descending = key.startswith("-") != backwards
        condition |= equal_so_far & Q(**{f"{field}__{'lt' if descending else 'gt'}": value})
        equal_so_far &= Q(**{field: value})
    first, value = ordering[0].lstrip("-"), values[0]
    descending = ordering[0].startswith("-") != backwards
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": value}) & condition


def _jsonable(value: Any) -> Any:
    if isinstance(value, int | str) or value is None:
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _field_value(model: type[models.Model], name: str, value: Any) -> Any:
    """A cursor value checked against its column's type, so a forged cursor is a 400, not a database error."""
    field = model._meta.get_field(name)
    if value is None or isinstance(value, bool | list | dict):
        raise ValueError(name)
    converted = field.to_python(value)
    if isinstance(converted, datetime.datetime) and converted.tzinfo is not None:
        converted = converted.astimezone(datetime.UTC)  # an offset the database cannot store fails here
    if isinstance(converted, int) and not -BIGINT_MAX <= converted <= BIGINT_MAX:
        raise ValueError(name)
    if isinstance(converted, str) and "\x00" in converted:
        raise ValueError(name)
    return converted
