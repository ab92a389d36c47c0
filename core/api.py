"""The write rules every writable API resource shares.

Serializers only translate: they turn a body into a service call and the service's typed refusals
into answers (core.services): not allowed is a 403, invalid a 400 with a message per field, a stale
version or a create that clashes with an existing record a 409. A create that repeats an existing
record exactly is a retry and answers 200 with it; a new record answers 201. A field the answer
shows but a write cannot set is a 400 naming it, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.database import retry_after, unavailable_message
from core.services import AlreadyExists, Stale

READ_ONLY_MESSAGE = "Read-only: the service sets it; leave it out of the request."
TOO_DEEP_MESSAGE = "The JSON body is nested too deeply."


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the record."
    default_code = "conflict"


def field_errors(exc: DjangoValidationError) -> dict:
    """A model's validation error as the API's {field: [messages]}."""
    errors = serializers.as_serializer_error(exc)
    if NON_FIELD_ERRORS in errors:
        errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
    return errors


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than Python's decoder goes is a 400, not a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(TOO_DEEP_MESSAGE) from None


def exception_handler(exc, context):
    """DRF's answers to errors, with every 400 in one shape: ``{name: [messages]}``, so a client reads a
    refused parameter, field or body the same way on every endpoint. A database that could not answer in time
    (down, or a statement or lock past its limit: core.database) is a 503 ``{"detail": ...}`` with Retry-After."""
    unavailable = unavailable_message(exc)
    if unavailable is not None:
        set_rollback()
        return Response(
            {"detail": unavailable}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": retry_after()}
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ParseError):
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: [str(exc.detail)]}
    elif response is not None and isinstance(exc, exceptions.ValidationError):
        data = response.data
        if isinstance(data, list):
            data = {api_settings.NON_FIELD_ERRORS_KEY: data}
        response.data = {
            name: messages if isinstance(messages, list | dict) else [messages] for name, messages in data.items()
        }
    return response


@contextmanager
def service_answers() -> Iterator[None]:
    """A service's typed refusal as the API's answer: 403, 400 per field, or 409."""
    try:
        yield
    except PermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from exc
    except (Stale, AlreadyExists) as exc:
        raise Conflict(str(exc)) from exc
    except DjangoValidationError as exc:
        raise serializers.ValidationError(field_errors(exc)) from exc


class ServiceWriteMixin:
    """A ModelSerializer whose create and update call services.

    Subclasses implement ``create_with(user, data) -> (record, created)`` and
    ``update_with(user, record, data) -> record``; ``replayed`` tells the view a create was a retry.
    """

    replayed = False

    def create_with(self, user, data: dict) -> tuple[models.Model, bool]:
        raise NotImplementedError

    def update_with(self, user, instance: models.Model, data: dict) -> models.Model:
        raise NotImplementedError

    def create(self, validated_data: dict) -> models.Model:
        with service_answers():
            instance, created = self.create_with(self.context["request"].user, validated_data)
        self.replayed = not created
        return instance

    def update(self, instance: models.Model, validated_data: dict) -> models.Model:
        with service_answers():
            return self.update_with(self.context["request"].user, instance, validated_data)


class WriteResponsesMixin:
    """Writes answer with the read representation (``read_serializer_class``, else the serializer's).

    POST answers 201 for a new row and 200 when it recognised a retry of an earlier create. A body
    that sends a field the answer shows but the write does not take is a 400 naming each such field
    (``read_only_hints`` says, per field, where it is changed instead).
    """

    read_serializer_class = None
    read_only_hints: Mapping[str, str] = {}

    def written(self, instance, code: int) -> Response:
        instance = self.get_queryset().model._default_manager.get(pk=instance.pk)
        reader = self.read_serializer_class or self.get_serializer_class()
        return Response(reader(instance, context=self.get_serializer_context()).data, status=code)

    def refuse_read_only(self, data) -> None:
        if not isinstance(data, Mapping):
            return
        writer = self.get_serializer()
        writable = {name for name, field in writer.fields.items() if not field.read_only}
        reader = self.read_serializer_class or self.get_serializer_class()
        shown = set(reader(context=self.get_serializer_context()).fields) | set(writer.fields)
        refused = sorted(name for name in data if name in shown and name not in writable)
        if refused:
            raise serializers.ValidationError(
                {name: [self.read_only_hints.get(name, READ_ONLY_MESSAGE)] for name in refused}
            )

    def create(self, request, *args, **kwargs):
        self.refuse_read_only(request.data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.written(serializer.instance, status.HTTP_200_OK if serializer.replayed else status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        instance = self.get_object()
        self.refuse_read_only(request.data)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.written(serializer.instance, status.HTTP_200_OK)
