from django.conf import settings
from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import bad_request, page_not_found
from rest_framework.settings import api_settings

from core.middleware import is_api

from .health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("healthz", healthz, name="healthz"),
]


def not_found(request, exception):
    """API clients get JSON for an unknown path too, like every other API error."""
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def refused_request(request, exception):
    """A request Django refuses before any view (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields):
    under /api/, JSON like every other API error; an over-size body is a 413."""
    if not is_api(request):
        return bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse({"detail": f"The request body is larger than the {limit} bytes accepted."}, status=413)
    return JsonResponse({api_settings.NON_FIELD_ERRORS_KEY: ["The request is malformed."]}, status=400)


handler400 = refused_request
handler404 = not_found
handler500 = "core.database.server_error"
