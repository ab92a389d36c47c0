"""Form pieces both apps' admins share."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from core.services import Stale, check_read_version


class LoadedAtForm(forms.ModelForm):
    """A record's form that carries the ``updated_at`` it was loaded at, so a record changed meanwhile is
    not overwritten: the form says so at once, and the service refuses the write again under lock."""

    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()

    def check_read(self, record: models.Model, read_at: datetime.datetime) -> None:
        check_read_version(record, read_at)

    def clean_loaded_at(self) -> datetime.datetime | None:
        loaded = self.cleaned_data.get("loaded_at")
        if self.instance.pk is None:
            return None
        try:
            return datetime.datetime.fromisoformat(loaded) if loaded else self.instance.updated_at
        except ValueError:
            raise ValidationError("Reload the page: the form is damaged.", code="invalid") from None

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and cleaned.get("loaded_at"):
            try:
                self.check_read(self.instance, cleaned["loaded_at"])
            except Stale as error:
                raise ValidationError(str(error), code="stale") from error
        return cleaned
