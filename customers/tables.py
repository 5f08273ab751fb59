"""Tables of the customer pages.

Only columns backed by an index are sortable, and every sort ends in `id` so
that pages never overlap or skip rows when many rows share a timestamp (a CSV
import gives a whole batch the same `created_date`).
"""

import json
from datetime import date, datetime

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join

from customers.models import ERASED_CUSTOMER, Customer

MAX_PER_PAGE = 200
DATE = "j M Y"
DATETIME = "j M Y, H:i"
TABLE_ATTRS = {"class": "table table-hover align-middle"}


class PagedTable(tables.Table):
    """A table whose `?per_page=` cannot ask the database for a million rows at once."""

    def paginate(self, *args, per_page: int | None = None, **kwargs) -> None:
        per_page = min(max(per_page or 50, 1), MAX_PER_PAGE)
        super().paginate(*args, per_page=per_page, **kwargs)


def when(value: datetime | None) -> str:
    """A timestamp in the server's time zone, with the zone named."""
    return date_format(timezone.localtime(value), DATETIME + " T") if value else "—"


def link_to_customer(customer: Customer) -> str:
    url = reverse("customers:detail", args=[customer.pk])
    if customer.is_erased:
        return format_html('<a href="{}" class="text-muted">{}</a>', url, ERASED_CUSTOMER)
    if customer.full_name:
        return format_html('<a href="{}">{}</a>', url, customer.full_name)
    return format_html('<a href="{}" class="text-muted">(no name)</a>', url)


class CustomerTable(PagedTable):
    """Customers of any queryset: the customer list, a segment's members."""

    lms_lead_id = tables.Column(
        verbose_name="LMS lead id", linkify=("customers:detail", [tables.A("pk")])
    )
    name = tables.Column(
        accessor="full_name", empty_values=(), order_by=("last_name", "first_name", "id")
    )
    email = tables.Column(order_by=("email", "id"))
    mobile = tables.Column(orderable=False)
    created = tables.Column(
        verbose_name="Created", accessor="created_date", order_by=("created_date", "id")
    )

    class Meta:
        order_by = "-created"
        attrs = TABLE_ATTRS
        empty_text = "No customers."

    def render_name(self, record: Customer) -> str:
        return link_to_customer(record)

    def render_created(self, value: datetime) -> str:
        return when(value)


def render_attribute_value(value: object) -> str:
    """An attribute value shown the way its type reads best."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date):
        return date_format(value, DATE)
    if isinstance(value, list):
        if not value:
            return format_html('<span class="text-muted">(empty list)</span>')
        items = (item if isinstance(item, str) else json.dumps(item) for item in value)
        return format_html_join(
            " ", '<span class="badge text-bg-secondary">{}</span>', ((i,) for i in items)
        )
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


class AttributeTable(PagedTable):
    field_name = tables.Column(verbose_name="Name", order_by=("field_name",))
    field_type = tables.Column(verbose_name="Type", order_by=("field_type", "field_name"))
    value = tables.Column(
        accessor="typed_value", empty_values=(), orderable=False, attrs={"td": {"class": "value"}}
    )
    updated = tables.Column(
        verbose_name="Updated", accessor="updated_date", order_by=("updated_date", "field_name")
    )

    class Meta:
        order_by = "field_name"
        attrs = TABLE_ATTRS
        empty_text = "This customer has no attributes."

    def render_value(self, value: object) -> str:
        return render_attribute_value(value)

    def render_updated(self, value: datetime) -> str:
        return when(value)


class CustomerEventTable(PagedTable):
    """The customer's funnel events, read through `customer.funnel_events`.

    Defined here with plain columns because `customers` must not import
    `funnel`; it links to the event page by URL name only.
    """

    created = tables.Column(
        verbose_name="When",
        accessor="created_date",
        order_by=("created_date", "id"),
        linkify=("funnel:detail", [tables.A("pk")]),
    )
    funnel = tables.Column(accessor="get_funnel_type_display", orderable=False)
    move = tables.Column(verbose_name="From → to", accessor="to_stage", orderable=False)

    class Meta:
        order_by = "-created"
        attrs = TABLE_ATTRS
        empty_text = "No funnel events for this customer."

    def render_created(self, value: datetime) -> str:
        return when(value)

    def render_move(self, record) -> str:
        return render_move(record.from_stage, record.to_stage)


def render_move(from_stage: str | None, to_stage: str) -> str:
    """`lead → contacted`; a customer entering the funnel has no from stage."""
    if from_stage is None:
        return format_html('<span class="text-muted">(entered)</span> → {}', to_stage)
    return format_html("{} → {}", from_stage, to_stage)
