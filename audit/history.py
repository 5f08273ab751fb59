"""The History section of an object's page: its audit entries, newest first, paginated."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django_tables2 import RequestConfig

from audit.models import AuditEntry
from audit.tables import HistoryTable
from marketing_os.pagination import PAGINATE

PREFIX = "history-"  # the section's own ?history-page=, beside the page's other tables
PER_PAGE = 10


def history_table(request: HttpRequest, obj: models.Model) -> HistoryTable:
    """A configured table; `table.audit_url` opens the same entries on /audit/."""
    content_type = ContentType.objects.get_for_model(obj)
    entries = AuditEntry.objects.for_object(content_type.pk, obj.pk)
    table = HistoryTable(entries, prefix=PREFIX)
    RequestConfig(request, paginate=PAGINATE | {"per_page": PER_PAGE}).configure(table)
    query = urlencode({"type": f"{content_type.app_label}.{content_type.model}", "object": obj.pk})
    table.audit_url = f"{reverse('audit:list')}?{query}"
    return table
