import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def placeholder(request: HttpRequest, title: str, **kwargs: object) -> HttpResponse:
    """A page whose area is not built yet (kept so navigation never 404s)."""
    return render(request, "placeholder.html", {"title": title})


@login_not_required
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers `SELECT 1`; 503 naming what failed (never how)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # The exception text can carry host names or user names: log it, don't serve it.
        logger.exception("health check: the database did not answer")
        return JsonResponse({"status": "unavailable", "reason": "database unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
