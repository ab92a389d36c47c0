"""The audit-trail history page every audited model's admin shares."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from pghistory.models import MiddlewareEvents

# Fields that change on every save and say nothing about what was changed.
_QUIET_FIELDS = {"updated_at", "version", "search_names", "path"}


@dataclass
class AuditEvent:
    """One row of a history page: who did what to which record, and the values before and after."""

    at: datetime.datetime
    user: str
    action: str
    record: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    why: str = ""  # what the write was about, when it changed this record for another's sake


def audit_events(obj, *, related: bool = False, limit: int = 500) -> list[AuditEvent]:
    """The audit events of ``obj`` (and, with ``related``, of the rows that refer to it), newest first.

    Events are written by database triggers, so changes made outside the admin (the API, the shell,
    bulk updates, raw SQL) are listed too; those made outside a web request have no user.
    """
    events = MiddlewareEvents.objects.references(obj) if related else MiddlewareEvents.objects.tracks(obj)
    rows = list(events.order_by("-pgh_created_at", "-pgh_id")[:limit])
    user_ids = {row.pgh_context.get("user") for row in rows if row.pgh_context and row.pgh_context.get("user")}
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    result = []
    for row in rows:
        user_id = (row.pgh_context or {}).get("user")
        if row.pgh_label == "update":
            changes = [(name, old, new) for name, (old, new) in sorted((row.pgh_diff or {}).items())]
        else:
            changes = [(name, None, value) for name, value in sorted((row.pgh_data or {}).items())]
        shown = [change for change in changes if change[0] not in _QUIET_FIELDS]
        if row.pgh_label == "update" and changes and not shown:
            shown = changes
        result.append(
            AuditEvent(
                at=row.pgh_created_at,
                user=names.get(user_id, f"user #{user_id}") if user_id else "",
                action=row.pgh_label,
                record=f"{row.pgh_obj_model.split('.')[-1]} #{row.pgh_obj_id}",
                changes=shown,
                why=(row.pgh_context or {}).get("why", ""),
            )
        )
    return result


class AuditHistoryMixin:
    """Replaces the admin's history page with the database audit trail of the object."""

    object_history_template = "admin/audit_history.html"
    history_includes_related = False

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "events": audit_events(obj, related=self.history_includes_related),
            "includes_related": self.history_includes_related,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)
