import django_tables2 as tables

from customers.tables import TABLE_ATTRS, PagedTable, link_to_customer, render_move, when
from funnel.models import FunnelEvent


class FunnelEventTable(PagedTable):
    """Funnel events; the queryset must `select_related("customer")`."""

    created = tables.Column(
        verbose_name="When",
        accessor="created_date",
        order_by=("created_date", "id"),
        linkify=("funnel:detail", [tables.A("pk")]),
    )
    customer = tables.Column(orderable=False)
    lms_lead_id = tables.Column(
        verbose_name="LMS lead id", accessor="customer__lms_lead_id", orderable=False
    )
    funnel = tables.Column(accessor="get_funnel_type_display", orderable=False)
    move = tables.Column(verbose_name="From → to", accessor="to_stage", orderable=False)

    class Meta:
        order_by = "-created"
        attrs = TABLE_ATTRS
        empty_text = "No funnel events."

    def render_created(self, value) -> str:
        return when(value)

    def render_customer(self, value) -> str:
        return link_to_customer(value)

    def render_move(self, record: FunnelEvent) -> str:
        return render_move(record.from_stage, record.to_stage)
