import csv
import io

import django_tables2 as tables
from django.utils.html import format_html

from customers.models import ImportJob, ImportRowError

STATUS_CLASSES = {
    ImportJob.Status.QUEUED: "secondary",
    ImportJob.Status.RUNNING: "primary",
    ImportJob.Status.DONE: "success",
    ImportJob.Status.FAILED: "danger",
    ImportJob.Status.REFUSED: "warning",
}


def status_badge(status: str) -> str:
    return format_html(
        '<span class="badge text-bg-{}">{}</span>', STATUS_CLASSES.get(status, "light"), status
    )


class ImportJobTable(tables.Table):
    id = tables.Column(linkify=("imports:detail", {"pk": tables.A("pk")}), verbose_name="#")
    created_at = tables.DateTimeColumn(verbose_name="Uploaded", format="Y-m-d H:i")
    original_filename = tables.Column(
        verbose_name="File", linkify=("imports:detail", {"pk": tables.A("pk")}), orderable=False
    )
    kind = tables.Column(orderable=False)
    status = tables.Column(orderable=False)
    rows_processed = tables.Column(verbose_name="Rows", orderable=False)
    created = tables.Column(orderable=False)
    updated = tables.Column(orderable=False)
    skipped = tables.Column(orderable=False)
    user = tables.Column(verbose_name="By", orderable=False, default="command line")

    class Meta:
        model = ImportJob
        fields = ["id", "created_at", "original_filename", "kind", "status", "rows_processed"]
        sequence = [*fields, "created", "updated", "skipped", "user"]
        order_by = "-created_at"
        empty_text = "No imports yet."

    def render_status(self, record: ImportJob) -> str:
        return status_badge(record.status)


class ImportRowErrorTable(tables.Table):
    line = tables.Column(orderable=False)
    reason = tables.Column(orderable=False, accessor="message", verbose_name="Reason")
    cells = tables.Column(verbose_name="The line's cells", orderable=False, default="")

    class Meta:
        model = ImportRowError
        fields = ["line", "reason", "cells"]
        empty_text = "No bad lines."

    def render_reason(self, record: ImportRowError) -> str:
        return record.reason

    def render_cells(self, value: list) -> str:
        # Shown as the CSV line it was, so empty cells stay visible.
        line = io.StringIO()
        csv.writer(line).writerow(value)
        return format_html('<code class="text-body">{}</code>', line.getvalue().rstrip("\r\n"))
