"""The run page, "Run now", and the customer page's Messages panel."""

import time

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from automations.background import start_background_run
from automations.filters import DeliveryFilter
from automations.models import Automation, Delivery, Run
from automations.runs import refusal
from automations.tables import CustomerMessageTable, DeliveryTable
from marketing_os import roles
from marketing_os.access import requires
from marketing_os.pagination import PAGINATE

REFRESH_SECONDS = 3
STARTING_SECONDS = 30  # after "Run now", wait this long for the run to appear


def run_detail(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("automation"), pk=run_pk, automation_id=pk)
    deliveries = run.deliveries.select_related("customer").order_by()
    filterset = DeliveryFilter(request.GET, queryset=deliveries)
    table = DeliveryTable(filterset.qs)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {
        "run": run,
        "automation": run.automation,
        "filter": filterset,
        "table": table,
        "title": f"Run {run.pk}",
        "feedback": feedback_counts(run),
        "refresh": REFRESH_SECONDS if run.status == Run.Status.RUNNING else None,
    }
    return render(request, "automations/run_detail.html", context)


def feedback_counts(run: Run) -> dict[str, int]:
    """Resend's feedback on the run's emails, in one query (a complaint was delivered too)."""
    F = Delivery.Feedback
    return run.deliveries.aggregate(
        delivered=Count("id", filter=Q(feedback__in=[F.DELIVERED, F.COMPLAINED])),
        bounced=Count("id", filter=Q(feedback=F.BOUNCED)),
        soft_bounced=Count("id", filter=Q(feedback=F.SOFT_BOUNCED)),
        complained=Count("id", filter=Q(feedback=F.COMPLAINED)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
    )


@requires(roles.RUN_AUTOMATION)
@require_http_methods(["GET", "POST"])
def run_now(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST starts `run_automation <id> --now` in the background."""
    automation = get_object_or_404(
        Automation.objects.select_related("customer_segment", "message_template"), pk=pk
    )
    problem = refusal(automation, force=False)
    if request.method == "GET":
        context = {"automation": automation, "problem": problem, "title": "Run now"}
        return render(request, "automations/run_now.html", context)
    if problem:
        messages.error(request, problem)
        return redirect(automation)
    error = start_background_run(automation, user=request.user)
    if error:
        messages.error(request, error)
        return redirect(automation)
    messages.success(request, "The run has started; its progress shows below.")
    return redirect(f"{reverse('automations:detail', args=[pk])}?started={int(time.time())}")


def latest_run_prefetch() -> Prefetch:
    """Each automation's latest run as `latest_runs` (one query per page, by window)."""
    latest = Run.objects.order_by("-started_at", "-id")[:1]
    return Prefetch("runs", queryset=latest, to_attr="latest_runs")


def history_context(request: HttpRequest, automation: Automation) -> dict:
    """What the automation page shows about runs: the latest, and progress if one runs."""
    runs = list(automation.runs.order_by("-started_at", "-id")[:20])
    running = next((run for run in runs if run.status == Run.Status.RUNNING), None)
    return {
        "runs": runs,
        "running": running,
        "refresh": REFRESH_SECONDS if running or _starting(request, runs) else None,
    }


def _starting(request: HttpRequest, runs: list[Run]) -> bool:
    """Just after "Run now", until its run appears (the child takes a moment)."""
    try:
        started = int(request.GET.get("started", ""))
    except ValueError:
        return False
    recent = time.time() - started < STARTING_SECONDS
    return recent and not any(run.started_at.timestamp() >= started - 1 for run in runs)


def customer_messages(request: HttpRequest, customer) -> CustomerMessageTable:
    """The customer page's Messages panel (registered in AutomationsConfig.ready)."""
    deliveries = (
        Delivery.objects.filter(customer=customer)
        .exclude(status=Delivery.Status.SKIPPED)
        .select_related("run__automation")
        .prefetch_related("events")
        .order_by("-id")
    )
    return CustomerMessageTable(deliveries, prefix="messages-")
