"""/audit/: every entry of the audit trail, searchable; /audit/<id>/: one entry whole.

Read-only: nothing in the UI edits or deletes an entry (the table refuses it too).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_tables2 import RequestConfig

from audit.display import changes_of, summary
from audit.filters import AuditFilter
from audit.models import AuditEntry
from audit.registration import audited, object_url
from audit.tables import AuditTable
from marketing_os.pagination import PAGINATE


def audit_list(request: HttpRequest) -> HttpResponse:
    filterset = AuditFilter(request.GET, queryset=AuditEntry.objects.with_object_gone())
    table = AuditTable(filterset.qs)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {"filter": filterset, "table": table, "title": "Audit trail"}
    return render(request, "audit/audit_list.html", context)


def audit_entry(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(AuditEntry.objects.with_object_gone(), pk=pk)
    kind = audited(entry.content_type_id)
    context = {
        "entry": entry,
        "kind": kind.label if kind else entry.content_type_id,
        "object_url": ""
        if entry.object_gone
        else object_url(entry.content_type_id, entry.object_id, user=request.user),
        "summary": summary(entry),
        "changes": changes_of(entry),
        "details": {k: v for k, v in entry.details.items() if k != "summary"},
    }
    return render(request, "audit/audit_entry.html", context)
