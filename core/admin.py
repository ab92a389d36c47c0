"""Admin pieces both apps share."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect

from core.services import AlreadyExists, Invalid, NotAllowed, Stale


class ServiceRefusalsMixin:
    """A write the services refuse while the admin saves (a colleague's change that landed between the form's
    checks and the save) is reported on the page it came from, with nothing written, never a server error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (Invalid, NotAllowed, Stale, AlreadyExists) as refused:
            text = " ".join(refused.messages) if isinstance(refused, Invalid) else str(refused)
            self.message_user(request, f"Nothing was saved: {text}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
