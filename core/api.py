"""The write rules every writable API resource shares.

Writes validate on the model (``full_clean``), as the admin does, and a database constraint
that still refuses a row becomes a 400, never a 500 or a partial write. A create that names an
existing row by its natural or external key is a retry: the same content returns the row, other
content is a 409. An update carries the version it read; a stale one is a 409.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, models, transaction
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.settings import api_settings


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


def database_refusal(exc: IntegrityError, model: type[models.Model]) -> str:
    """The message of the constraint or trigger that refused a write."""
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    for constraint in model._meta.constraints:
        if name and constraint.name == name:
            return str(constraint.get_violation_error_message())
    return getattr(diag, "message_primary", None) or str(exc)


def save_checked(instance: models.Model, *, save: Callable[[], object] | None = None, error_field: str = "") -> None:
    """Validate ``instance`` on the model and save it; every refusal is a 400 naming the field.

    Deferred constraint checks are run before returning, so a rule the database checks at
    commit refuses this write here, inside its savepoint, and nothing is half-written.
    """
    # As in the admin's forms, fields the database fills (copies, counters) are not asked of the caller.
    derived = [
        f.name for f in instance._meta.concrete_fields if not f.editable and f.value_from_object(instance) is None
    ]
    try:
        instance.full_clean(exclude=derived)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(field_errors(exc)) from exc
    try:
        with transaction.atomic():
            (save or instance.save)()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError as exc:
        key = error_field or api_settings.NON_FIELD_ERRORS_KEY
        raise serializers.ValidationError({key: [database_refusal(exc, type(instance))]}) from exc


def differing_fields(instance: models.Model, data: Mapping) -> list[str]:
    """The fields of ``data`` whose value differs from ``instance``'s."""
    return sorted(name for name, value in data.items() if getattr(instance, name) != value)


class ChangeGuardMixin:
    """Idempotent creates and version-checked updates for a ModelSerializer.

    Subclasses say how a retry is recognised (``existing_for``); an update must carry the
    ``updated_at`` it read (models with their own counter override ``check_version``).
    """

    replayed = False

    def existing_for(self, data: Mapping) -> models.Model | None:
        return None

    def replay(self, existing: models.Model, data: Mapping) -> models.Model:
        differing = differing_fields(existing, data)
        if differing:
            raise Conflict(
                f"A {existing._meta.verbose_name} with this key already exists with different values "
                f"({', '.join(differing)}); it was not changed. Update it instead."
            )
        self.replayed = True
        return existing

    def check_version(self, instance: models.Model, data: Mapping) -> None:
        read = data.pop("updated_at", None)
        if read is None:
            raise serializers.ValidationError({"updated_at": ["Give the updated_at you last read, to update."]})
        if read != instance.updated_at:
            raise Conflict(
                f"This {instance._meta.verbose_name} was changed by someone else at "
                f"{instance.updated_at.isoformat()}, after the version you read. Reload it and apply your change again."
            )

    @transaction.atomic
    def create(self, validated_data: dict) -> models.Model:
        validated_data.pop("updated_at", None)
        existing = self.existing_for(validated_data)
        if existing is not None:
            return self.replay(existing, validated_data)
        instance = self.Meta.model(**validated_data)
        try:
            save_checked(instance)
        except serializers.ValidationError:
            existing = self.existing_for(validated_data)  # a concurrent identical request won the race
            if existing is None:
                raise
            return self.replay(existing, validated_data)
        return instance

    @transaction.atomic
    def update(self, instance: models.Model, validated_data: dict) -> models.Model:
        instance = type(instance).objects.select_for_update().get(pk=instance.pk)
        self.check_version(instance, validated_data)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        save_checked(instance)
        return instance


class WriteResponsesMixin:
    """Writes answer with the read representation (``read_serializer_class``, else the serializer's).

    POST answers 201 for a new row and 200 when it recognised a retry of an earlier create.
    """

    read_serializer_class = None

    def written(self, instance, code: int) -> Response:
        instance = self.get_queryset().model._default_manager.get(pk=instance.pk)
        reader = self.read_serializer_class or self.get_serializer_class()
        return Response(reader(instance, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.written(serializer.instance, status.HTTP_200_OK if serializer.replayed else status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.written(serializer.instance, status.HTTP_200_OK)
