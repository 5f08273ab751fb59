import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join

from automations.models import Automation

RUN_FORMAT = "D j M Y, H:i"  # the zone is named in the column header
MAX_PER_PAGE = 200


def typed_link(url_name: str, obj: object) -> str:
    """`name (type)`, linked to the object's page (plain text until that page exists)."""
    try:
        name = format_html('<a href="{}">{}</a>', reverse(url_name, args=[obj.pk]), obj.name)
    except NoReverseMatch:
        name = obj.name
    return format_html(
        '{} <span class="text-muted small">({})</span>', name, obj.get_type_display()
    )


class AutomationTable(tables.Table):
    name = tables.Column(linkify=True, order_by=("name", "id"))
    customer_segment = tables.Column(
        verbose_name="Segment", order_by=("customer_segment__name", "id")
    )
    message_template = tables.Column(
        verbose_name="Template", order_by=("message_template__name", "id")
    )
    schedule = tables.Column(empty_values=(), orderable=False, verbose_name="Schedule")
    is_active = tables.Column(verbose_name="Active", order_by=("is_active", "name", "id"))
    next_run = tables.Column(empty_values=(), orderable=False)
    last_run = tables.Column(empty_values=(), orderable=False, verbose_name="Last run")

    class Meta:
        model = Automation
        fields = ["name", "customer_segment", "message_template", "schedule", "is_active"]
        sequence = [*fields, "next_run", "last_run"]
        attrs = {"class": "table table-hover align-middle"}
        order_by = ("name",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.columns[
            "next_run"
        ].column.verbose_name = f"Next run ({timezone.get_current_timezone_name()})"
        self.now = timezone.now()

    def paginate(self, *args: object, per_page: int | None = None, **kwargs: object) -> None:
        super().paginate(*args, per_page=min(max(per_page or 50, 1), MAX_PER_PAGE), **kwargs)

    def render_customer_segment(self, value: object) -> str:
        return typed_link("segments:detail", value)

    def render_message_template(self, value: object) -> str:
        return typed_link("templates_app:detail", value)

    def render_schedule(self, record: Automation) -> str:
        return format_html(
            '{}<div class="small text-muted font-monospace">{}</div>',
            record.schedule_text,
            record.cron,
        )

    def render_is_active(self, value: bool) -> str:
        return "Active" if value else "Inactive"

    def render_next_run(self, record: Automation) -> str:
        runs = record.next_runs(now=self.now, count=1)
        return date_format(runs[0], RUN_FORMAT) if runs else "—"

    def render_last_run(self, record: Automation) -> str:
        latest = getattr(record, "latest_runs", None)
        if not latest:
            return "—"
        run = latest[0]
        when = date_format(timezone.localtime(run.started_at), RUN_FORMAT)
        return format_html(
            '<a href="{}">{}</a> · {}', run.get_absolute_url(), when, run.get_status_display()
        )


# -- Runs and their recipients ----------------------------------------------------------------


class DeliveryTable(tables.Table):
    """A run's recipients (the run page)."""

    email = tables.Column(verbose_name="Email", order_by=("email", "id"))
    customer = tables.Column(
        linkify=("customers:detail", [tables.A("customer_id")]),
        order_by=("customer_id",),
        verbose_name="Customer",
    )
    status = tables.Column(order_by=("status", "id"))
    skip_reason = tables.Column(verbose_name="Skipped because", orderable=False)
    feedback = tables.Column(verbose_name="Delivery", orderable=False)
    resend_id = tables.Column(verbose_name="Resend id", orderable=False)
    attempts = tables.Column(orderable=False)
    last_error = tables.Column(verbose_name="Error", orderable=False)

    class Meta:
        attrs = {"class": "table table-sm align-middle deliveries"}
        order_by = ("id",)
        empty_text = "No recipients match."

    def render_customer(self, record) -> str:
        return record.customer.lms_lead_id

    def render_feedback(self, record) -> str:
        return feedback_badge(record)

    def render_status(self, record) -> str:
        classes = {"accepted": "success", "failed": "danger", "skipped": "secondary"}
        colour = classes.get(record.status, "warning")
        return format_html(
            '<span class="badge text-bg-{}">{}</span>', colour, record.get_status_display()
        )


class CustomerMessageTable(tables.Table):
    """Messages sent (or tried) to one customer (the customer page)."""

    sent_at = tables.DateTimeColumn(verbose_name="Sent", format="j M Y, H:i", orderable=False)
    automation = tables.Column(
        accessor="run__automation__name", verbose_name="Automation", orderable=False
    )
    run = tables.Column(linkify=lambda record: record.run.get_absolute_url(), orderable=False)
    email = tables.Column(orderable=False)
    status = tables.Column(orderable=False)
    feedback = tables.Column(verbose_name="Delivery", orderable=False)
    history = tables.Column(empty_values=(), verbose_name="Delivery history", orderable=False)
    resend_id = tables.Column(verbose_name="Resend id", orderable=False)
    last_error = tables.Column(verbose_name="Error", orderable=False)

    class Meta:
        attrs = {"class": "table table-sm align-middle customer-messages"}
        empty_text = "No messages sent to this customer yet."

    def render_run(self, record) -> str:
        return f"Run {record.run_id}"

    def render_feedback(self, record) -> str:
        return feedback_badge(record)

    def render_history(self, record) -> str:
        """Resend's events for this message, oldest first (prefetched: `events`)."""
        events = sorted(record.events.all(), key=lambda event: event.id)
        if not events:
            return "—"
        return format_html_join(
            ", ",
            '<span title="{}">{}</span>',
            (
                (date_format(timezone.localtime(e.received_at), "j M Y, H:i"), e.label)
                for e in events
            ),
        )


FEEDBACK_COLOURS = {
    "delivered": "success",
    "bounced": "danger",
    "complained": "danger",
    "soft_bounced": "warning",
    "delivery_delayed": "warning",
}


def feedback_badge(record) -> str:
    if not record.feedback:
        return "—"
    colour = FEEDBACK_COLOURS.get(record.feedback, "secondary")
    return format_html(
        '<span class="badge text-bg-{}">{}</span>', colour, record.get_feedback_display()
    )


class SubscriptionChangeTable(tables.Table):
    """A customer's unsubscribes and re-subscribes (the customer page)."""

    changed_at = tables.DateTimeColumn(verbose_name="When", format="j M Y, H:i", orderable=False)
    action = tables.Column(verbose_name="What", orderable=False)
    source = tables.Column(verbose_name="How", orderable=False)
    email = tables.Column(orderable=False)
    changed_by = tables.Column(verbose_name="By", orderable=False, default="—")
    reason = tables.Column(orderable=False)

    class Meta:
        attrs = {"class": "table table-sm align-middle subscription-changes"}
        empty_text = "Never unsubscribed."
