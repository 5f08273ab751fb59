"""Pages of /imports/: upload a CSV file, follow its import, download its bad lines."""

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django_tables2 import RequestConfig

from customers.csv_import import KINDS
from customers.forms import ImportForm
from customers.import_filters import ImportJobFilter
from customers.import_jobs import bad_lines_csv, import_upload, mark_dead_jobs
from customers.import_tables import ImportJobTable, ImportRowErrorTable, status_badge
from customers.models import ImportJob
from marketing_os import roles
from marketing_os.access import requires
from marketing_os.pagination import PAGINATE

REFRESH_SECONDS = 2


def import_list(request: HttpRequest) -> HttpResponse:
    mark_dead_jobs(now=timezone.now())
    jobs = ImportJob.objects.select_related("user")
    filterset = ImportJobFilter(request.GET, queryset=jobs)
    table = ImportJobTable(filterset.qs)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {"filter": filterset, "table": table, "title": "Imports"}
    return render(request, "customers/import_list.html", context)


@requires(roles.IMPORT_CSV)
def import_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            job = import_upload(
                form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                user=request.user,
                now=timezone.now(),
            )
            return redirect("imports:detail", pk=job.pk)
    else:
        kind = request.GET.get("kind")
        form = ImportForm(initial={"kind": kind if kind in KINDS else "customers"})
    return render(request, "customers/import_new.html", {"form": form, "kinds": KINDS.values()})


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mark_dead_jobs(now=timezone.now())
    job = get_object_or_404(ImportJob.objects.select_related("user"), pk=pk)
    table = ImportRowErrorTable(job.row_errors.order_by("line", "id"))
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {
        "job": job,
        "kind": KINDS.get(job.kind),
        "table": table,
        "status": status_badge(job.status),
        "refresh": REFRESH_SECONDS if job.is_active else None,
    }
    return render(request, "customers/import_detail.html", context)


def import_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    response = StreamingHttpResponse(bad_lines_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-bad-lines.csv"'
    return response
