"""Liveness and readiness in one: the service answers and its database does too (and its hot standby, if any)."""

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    # The standby serves the API's reads when it is configured: the service is not ready without it.
    checks = {"database": "default", **({"replica": "replica"} if "replica" in settings.DATABASES else {})}
    answers = {}
    for name, alias in checks.items():
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            answers[name] = str(exc.__class__.__name__)
        else:
            answers[name] = "ok"
    failed = any(answer != "ok" for answer in answers.values())
    return JsonResponse({"status": "error" if failed else "ok", **answers}, status=503 if failed else 200)
