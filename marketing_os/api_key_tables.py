import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from customers.tables import TABLE_ATTRS, PagedTable, when
from marketing_os.models import ApiKey


class ApiKeyTable(PagedTable):
    name = tables.Column(linkify=("api_keys:detail", {"pk": tables.A("pk")}))
    prefix = tables.Column(verbose_name="Prefix")
    scopes = tables.Column(orderable=False)
    rate_limit = tables.Column(
        accessor="rate_limit_per_minute", verbose_name="Rate limit", empty_values=()
    )
    created_at = tables.Column(verbose_name="Created")
    last_used_at = tables.Column(verbose_name="Last used", empty_values=())
    status = tables.Column(accessor="revoked_at", verbose_name="Status", empty_values=())

    class Meta:
        fields = ["name", "prefix", "scopes", "rate_limit", "created_at", "last_used_at"]
        order_by = "-created_at"
        attrs = TABLE_ATTRS | {"class": "table table-hover align-middle api-key-list"}
        empty_text = "No API keys match this search."

    def render_prefix(self, value: str) -> str:
        return format_html("<code>{}…</code>", value)

    def render_scopes(self, record: ApiKey) -> str:
        return record.scopes_display

    def render_rate_limit(self, record: ApiKey) -> str:
        return record.rate_limit_display

    def render_created_at(self, value) -> str:
        return when(value)

    def render_last_used_at(self, value) -> str:
        return when(value) if value else "never"

    def render_status(self, record: ApiKey) -> str:
        if record.revoked_at:
            return format_html(
                '<span class="badge text-bg-secondary">revoked</span> {}', when(record.revoked_at)
            )
        return mark_safe('<span class="badge text-bg-success">active</span>')
