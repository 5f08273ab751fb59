import django_tables2 as tables
from django.contrib.humanize.templatetags.humanize import intcomma

from segments.models import CustomerSegment


class SegmentTable(tables.Table):
    name = tables.Column(linkify=("segments:detail", [tables.A("pk")]), order_by=("name", "id"))
    type = tables.Column(order_by=("type", "name", "id"))
    members = tables.Column(
        accessor="last_count",
        verbose_name="Members",
        empty_values=(),
        order_by=("last_count", "id"),
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    updated = tables.DateTimeColumn(
        accessor="updated_date", verbose_name="Updated", order_by=("updated_date", "id")
    )

    class Meta:
        model = CustomerSegment
        fields = ("name", "type", "members", "updated")
        order_by = ("-updated",)
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No segments match."

    def render_members(self, value: int | None) -> str:
        return "—" if value is None else intcomma(value)
