from django.contrib import messages
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig
from django_tables2.rows import BoundRows

from audit.history import history_table
from customers.filters import CustomerFilter
from customers.tables import CustomerTable
from marketing_os import roles
from marketing_os.access import requires
from marketing_os.deleting import delete_page
from marketing_os.pagination import PAGINATE, EstimatedCountPaginator
from segments.editing import save_segment
from segments.evaluation import (
    SegmentError,
    evaluate_segment,
    preview_segment_sql,
    segment_customers,
    segment_customers_page,
)
from segments.filters import SegmentFilter
from segments.forms import SegmentForm
from segments.handlers import REGISTRY
from segments.models import CustomerSegment, CustomerSegmentCustomer, MemberUpload
from segments.sql_policy import pretty_sql
from segments.tables import SegmentTable

EMPTY = "This segment has no customers yet."
DEFAULT_ORDER = tuple(CustomerTable._meta.order_by)  # ("-created",): newest first
# CustomerTable's rows without a per-cell attribute lookup (a fifth of the page's time).
ROWS_TEMPLATE = "segments/customer_table.html"


def segment_list(request: HttpRequest) -> HttpResponse:
    filterset = SegmentFilter(request.GET, queryset=CustomerSegment.objects.all())
    table = SegmentTable(filterset.qs)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    return render(request, "segments/segment_list.html", {"filter": filterset, "table": table})


def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(CustomerSegment, pk=pk)
    context = {
        "segment": segment,
        "sql": pretty_sql(segment.selection_sql or ""),
        "handler": REGISTRY.get(segment.handler_function or ""),
        "uploads": segment.uploads.select_related("uploaded_by").order_by("-created_date")[:20],
        "list_size": segment_list_size(segment),
        "history": history_table(request, segment),
    }
    return render(request, "segments/segment_detail.html", context)


def segment_list_size(segment: CustomerSegment) -> int | None:
    if segment.type != CustomerSegment.Type.MANUAL:
        return None
    return CustomerSegmentCustomer.objects.filter(customer_segment=segment).count()


def segment_customer_list(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(CustomerSegment, pk=pk)
    try:
        customers = segment_customers(segment, now=timezone.now())
    except SegmentError as error:
        messages.error(request, f"The segment could not be evaluated: {error}")
        return redirect("segments:detail", pk=segment.pk)
    filterset = CustomerFilter(request.GET, queryset=customers)
    empty_text = "No customers in this segment match." if filterset.is_searching else EMPTY
    table = CustomerTable(filterset.qs, empty_text=empty_text, template_name=ROWS_TEMPLATE)
    paginate = PAGINATE
    if segment.type != CustomerSegment.Type.MANUAL and not filterset.is_searching:
        paginate = PAGINATE | {"paginator_class": stored_paginator(segment)}
    RequestConfig(request, paginate=paginate).configure(table)
    context = {"segment": segment, "filter": filterset, "table": table}
    return render(request, "segments/segment_customers.html", context)


def stored_paginator(segment: CustomerSegment) -> type[EstimatedCountPaginator]:
    """A paginator over an evaluated segment's stored members (not searching).

    It trusts the count the evaluation stored (counting 300k members again on
    every view costs more than the page), and in the default order (newest
    first) reads page N by stored position, so page 1,000 costs what page 1
    does; other orders page through the join as any list does.
    """

    class StoredPaginator(EstimatedCountPaginator):
        @cached_property
        def count(self) -> int:
            count = segment.last_count
            return count if count is not None else super().count

        def page(self, number: object) -> Page:
            rows = self.object_list
            if tuple(rows.table.order_by or ()) != DEFAULT_ORDER:
                return super().page(number)
            number = self.validate_number(number)
            start = (number - 1) * self.per_page
            customers = segment_customers_page(segment, start=start, stop=start + self.per_page)
            return self._get_page(BoundRows(customers, table=rows.table), number, self)

    return StoredPaginator


@requires(roles.CHANGE_SEGMENT)
@require_POST
def segment_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(CustomerSegment, pk=pk)
    try:
        evaluation = evaluate_segment(segment, now=timezone.now())
    except SegmentError as error:
        messages.error(request, f"The segment could not be evaluated: {error}")
    else:
        messages.success(
            request, f"{evaluation.count:,} members, counted in {evaluation.duration_ms:,} ms."
        )
    return redirect("segments:detail", pk=segment.pk)


@requires(roles.ADD_SEGMENT)
def segment_new(request: HttpRequest) -> HttpResponse:
    return segment_form_page(request, CustomerSegment(), "New segment")


@requires(roles.CHANGE_SEGMENT)
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(CustomerSegment, pk=pk)
    return segment_form_page(request, segment, f"Edit {segment.name}")


def segment_form_page(request: HttpRequest, segment: CustomerSegment, title: str) -> HttpResponse:
    if request.method == "POST" and "preview" in request.POST:
        return preview_page(request, segment, title)
    form = SegmentForm(request.POST or None, request.FILES or None, instance=segment)
    if request.method == "POST" and form.is_valid():
        outcome = save_segment(form, user=request.user, now=timezone.now())
        if outcome.problem:
            messages.error(request, f"Saved, but: {outcome.problem}")
        else:
            messages.success(request, f"Segment “{outcome.segment.name}” saved.")
        if outcome.upload:
            messages.info(request, upload_summary(outcome.upload))
        return redirect("segments:detail", pk=outcome.segment.pk)
    return render_form(request, form, title)


def upload_summary(upload: MemberUpload) -> str:
    summary = f"{upload.lines:,} lines read, {upload.added:,} customers added"
    if upload.unmatched_count:
        return summary + f"; {upload.unmatched_count:,} lines matched no customer (listed below)."
    return summary + "; every line matched a customer."


def preview_page(request: HttpRequest, segment: CustomerSegment, title: str) -> HttpResponse:
    """Run the typed SQL without saving; the form keeps everything that was typed."""
    form = SegmentForm(initial=request.POST.dict(), instance=segment)
    sql = request.POST.get("selection_sql", "")
    try:
        preview, problem = preview_segment_sql(sql), None
    except SegmentError as error:
        preview, problem = None, error.problem
    context = {
        "preview": preview,
        "preview_problem": problem,
        "preview_where": problem.location(sql) if problem else "",
        "preview_sql": sql,
    }
    return render_form(request, form, title, context)


def render_form(
    request: HttpRequest, form: SegmentForm, title: str, extra: dict | None = None
) -> HttpResponse:
    sql = form["selection_sql"].value() or ""
    problem = form.sql_problem
    context = {
        "form": form,
        "title": title,
        "segment": form.instance,
        "handlers": [REGISTRY[name] for name in sorted(REGISTRY)],
        "sql_excerpt": problem.excerpt(sql) if problem else "",
    } | (extra or {})
    if context.get("preview_problem"):
        context["sql_excerpt"] = context["preview_problem"].excerpt(context["preview_sql"])
    return render(request, "segments/segment_form.html", context)


@requires(roles.DELETE_SEGMENT)
@require_http_methods(["GET", "POST"])
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(CustomerSegment, pk=pk)
    detail_url = reverse("segments:detail", args=[segment.pk])
    return delete_page(request, segment, detail_url=detail_url, list_url=reverse("segments:list"))
