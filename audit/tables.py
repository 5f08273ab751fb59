"""The audit trail's tables: every entry (/audit/) and one object's History section.

Rows need no query of their own: the actor is the stored label, the object's
name is the stored `object_repr`, its link and field names come from the
(cached) content type.
"""

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from audit.display import changes_of, short, summary
from audit.models import AuditEntry
from audit.registration import audited, object_url
from customers.tables import TABLE_ATTRS, PagedTable, when

EMPTY_VALUE = '<span class="text-muted">—</span>'


def value_html(value: object) -> str:
    if value is None or value == "":
        return mark_safe(EMPTY_VALUE)
    return format_html("<code>{}</code>", short(value))


def changes_html(entry: AuditEntry) -> SafeString:
    """Field by field, before → after; long values cut short, with a link to the whole diff."""
    changes = changes_of(entry)
    rows = format_html_join(
        "",
        '<li><span class="audit-field">{}</span>: {} → {}</li>',
        ((c.field, value_html(c.before), value_html(c.after)) for c in changes),
    )
    parts = [format_html("<span>{}</span>", summary(entry))] if summary(entry) else []
    if changes:
        parts.append(format_html('<ul class="list-unstyled mb-0 audit-changes">{}</ul>', rows))
    if any(c.is_long for c in changes):
        parts.append(format_html('<a href="{}">Full diff</a>', entry.get_absolute_url()))
    return format_html_join("", "{}", ((part,) for part in parts))


class HistoryTable(PagedTable):
    """One object's entries, newest first (the segment, template and automation pages)."""

    timestamp = tables.Column(
        verbose_name="When",
        order_by=("timestamp", "id"),
        linkify=lambda record: record.get_absolute_url(),
    )
    actor_label = tables.Column(verbose_name="Who", orderable=False)
    action = tables.Column(verbose_name="What", orderable=False)
    changes = tables.Column(
        verbose_name="Details", empty_values=(), orderable=False, attrs={"td": {"class": "w-50"}}
    )

    class Meta:
        order_by = "-timestamp"
        attrs = TABLE_ATTRS | {"class": "table table-sm align-middle audit-history"}
        empty_text = "Nothing recorded yet."

    def render_timestamp(self, value) -> str:
        return when(value)

    def render_action(self, record: AuditEntry) -> str:
        return record.get_action_display()

    def render_changes(self, record: AuditEntry) -> SafeString:
        return changes_html(record)


class AuditTable(HistoryTable):
    """Every entry (/audit/): the History columns plus the object."""

    object = tables.Column(accessor="object_repr", verbose_name="Object", orderable=False)

    class Meta(HistoryTable.Meta):
        attrs = TABLE_ATTRS | {"class": "table table-hover align-middle audit-list"}
        sequence = ("timestamp", "actor_label", "action", "object", "changes")
        empty_text = "No entries match this search."

    def render_object(self, record: AuditEntry) -> str:
        kind = audited(record.content_type_id)
        label = kind.label if kind else ""
        url = object_url(record.content_type_id, record.object_id, user=self.request.user)
        if url and not record.object_gone:
            return format_html(
                '<span class="text-muted">{}</span> <a href="{}">{}</a>',
                label,
                url,
                record.object_repr,
            )
        return format_html('<span class="text-muted">{}</span> {}', label, record.object_repr)
