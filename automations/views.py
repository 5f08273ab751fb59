from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2 import RequestConfig

from audit.history import history_table
from automations import crontab_block
from automations.filters import AutomationFilter
from automations.forms import AutomationForm
from automations.models import Automation
from automations.run_views import history_context, latest_run_prefetch
from automations.scheduling import (
    CronError,
    advanced_state,
    builder_state,
    describe_cron,
    next_runs,
    validate_cron,
)
from automations.tables import AutomationTable, typed_link
from marketing_os import roles
from marketing_os.access import requires
from marketing_os.deleting import delete_page
from marketing_os.pagination import PAGINATE

RUN_FORMAT = "D j M Y, H:i"  # e.g. "Wed 25 Nov 2026, 09:00"; the zone is named beside it
REFRESH = "scripts/refresh_automation.sh"
MAX_EXPRESSION = 100  # as CronField


def automation_list(request: HttpRequest) -> HttpResponse:
    automations = Automation.objects.select_related(
        "customer_segment", "message_template"
    ).prefetch_related(latest_run_prefetch())
    filterset = AutomationFilter(request.GET, queryset=automations)
    empty = "No automations match this search." if filterset.is_searching else "No automations yet."
    table = AutomationTable(filterset.qs, empty_text=empty)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {"filter": filterset, "table": table, "title": "Automations"}
    return render(request, "automations/automation_list.html", context)


def automation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    automation = get_object_or_404(
        Automation.objects.select_related("customer_segment", "message_template"), pk=pk
    )
    context = {
        "automation": automation,
        "segment_link": typed_link("segments:detail", automation.customer_segment),
        "template_link": typed_link("templates_app:detail", automation.message_template),
        "next_runs": automation.next_runs(now=timezone.now()),
        "time_zone": settings.TIME_ZONE,
        "crontab": crontab_status(automation),
        "refresh_command": REFRESH,
        **history_context(request, automation),
        "history": history_table(request, automation),
    }
    return render(request, "automations/automation_detail.html", context)


def crontab_status(automation: Automation) -> dict:
    """Whether the installed crontab runs this automation as the database says."""
    try:
        installed = crontab_block.read_crontab()
    except crontab_block.CrontabUnreadable as error:
        return {"state": "unknown", "reason": str(error)}
    entry = automation.crontab_entry()
    state = crontab_block.entry_status(entry, installed, root=str(settings.BASE_DIR))
    return {
        "state": state,
        "line": crontab_block.automation_line(entry, root=str(settings.BASE_DIR)),
    }


@requires(roles.ADD_AUTOMATION)
def automation_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, Automation(created_by=request.user), "New automation")


@requires(roles.CHANGE_AUTOMATION)
def automation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    automation = get_object_or_404(Automation, pk=pk)
    return _edit(request, automation, f"Edit {automation.name}")


def _edit(request: HttpRequest, automation: Automation, title: str) -> HttpResponse:
    form = AutomationForm(request.POST or None, instance=automation)
    if request.method == "POST" and form.is_valid():
        automation = form.save()
        messages.success(
            request, f"Saved. Run {REFRESH} to bring the crontab in step with this change."
        )
        return redirect(automation)
    context = {"form": form, "automation": automation, "title": title}
    return render(request, "automations/automation_form.html", context)


@requires(roles.CHANGE_AUTOMATION, roles.ADD_AUTOMATION)  # the form page's helper
@require_GET
def cron_preview(request: HttpRequest) -> JsonResponse:
    """What the builder shows while the marketer types: validity, words, next runs."""
    expression = request.GET.get("expression", "")
    try:
        if len(expression) > MAX_EXPRESSION:
            raise CronError(f"A cron expression is at most {MAX_EXPRESSION} characters.")
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


@requires(roles.DELETE_AUTOMATION)
@require_http_methods(["GET", "POST"])
def automation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    automation = get_object_or_404(Automation, pk=pk)
    after = (
        f"If it was active, run {REFRESH} to take it out of the crontab."
        if automation.is_active
        else ""
    )
    return delete_page(
        request,
        automation,
        detail_url=automation.get_absolute_url(),
        list_url=reverse("automations:list"),
        after=after,
    )
