"""Limits on a request that the application answers itself, in the API's error shape under /api/."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

URL_TOO_LONG = "The URL is longer than the {limit} characters this service accepts; send fewer or shorter parameters."


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class UrlLengthLimitMiddleware:
    """A URL longer than ``MAX_URL_LENGTH`` is a 414 before any view runs.

    The limit sits below the server's own (gunicorn's ``limit_request_line``), so an over-long URL is
    answered here, in JSON for the API, rather than refused by the server as a bare page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_URL_LENGTH
        if len(request.get_full_path()) > limit:
            message = URL_TOO_LONG.format(limit=limit)
            if is_api(request):
                return JsonResponse({"detail": message}, status=414)
            return HttpResponse(message, status=414, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
