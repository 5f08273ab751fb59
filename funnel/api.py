"""JSON endpoint for funnel events (CONTRACT §4); the rules are `funnel.ingest`'s."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from funnel.ingest import ingest_events
from marketing_os.api import ingest_endpoint, item_errors


@ingest_endpoint
def events_create(request: HttpRequest, items: list) -> HttpResponse:
    result = ingest_events(items, now=timezone.now())
    if result.errors:
        return item_errors(result.errors)
    return JsonResponse({"created": result.created, "ids": result.ids}, status=201)
