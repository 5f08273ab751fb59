from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET

from automations.scheduling import (
    CronError,
    advanced_state,
    builder_state,
    describe_cron,
    next_runs,
    validate_cron,
)

RUN_FORMAT = "D j M Y, H:i"  # e.g. "Wed 25 Nov 2026, 09:00"; the zone is named beside it


@require_GET
def cron_preview(request: HttpRequest) -> JsonResponse:
    """What the builder shows while the marketer types: validity, words, next runs."""
    expression = request.GET.get("expression", "")[:200]
    try:
        expression = validate_cron(expression)
    except CronError as error:
        return JsonResponse({"valid": False, "error": str(error)})
    runs = next_runs(expression, now=timezone.now())
    return JsonResponse(
        {
            "valid": True,
            "expression": expression,
            "description": describe_cron(expression),
            "time_zone": settings.TIME_ZONE,
            "next_runs": [dateformat.format(run, RUN_FORMAT) for run in runs],
            "builder": builder_state(expression),
            "advanced": advanced_state(expression),
        }
    )
