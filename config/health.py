"""Liveness and readiness in one: the service answers and its database does too.

With a hot standby its state is reported beside the primary's; the service stays ready without it, because
the primary then serves the reads (core.db_routing). The probe gives up quickly: a new connection after
DATABASE_CONNECT_TIMEOUT seconds, its statement after the ``healthz`` statement timeout
(settings.DATABASE_TIMEOUTS); either way the answer for the primary is a 503.
"""

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    checks = {"database": "default", **({"replica": "replica"} if "replica" in settings.DATABASES else {})}
    limit = settings.DATABASE_TIMEOUTS["healthz"]["statement_timeout"]
    answers = {}
    for name, alias in checks.items():
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [limit])
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            answers[name] = str(exc.__class__.__name__)
        else:
            answers[name] = "ok"
    if answers["database"] != "ok":
        return JsonResponse({"status": "error", **answers}, status=503)
    degraded = any(answer != "ok" for answer in answers.values())
    return JsonResponse({"status": "degraded" if degraded else "ok", **answers})
