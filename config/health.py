"""Liveness and readiness in one: the service answers and its database does too.

The probe gives up quickly: a new connection after DATABASE_CONNECT_TIMEOUT seconds, its statement after the
``healthz`` statement timeout (settings.DATABASE_TIMEOUTS); either way the answer is a 503.
"""

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            limit = settings.DATABASE_TIMEOUTS["healthz"]["statement_timeout"]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [limit])
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": str(exc.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
