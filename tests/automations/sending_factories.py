"""Automations ready to send, for the sending tests."""

from itertools import count

from automations.models import Automation
from customers.ingest import ingest_customers
from customers.models import Customer
from segments.models import CustomerSegment
from templates_app.models import MessageTemplate
from tests.factories import NOW
from tests.segments.factories import make_manual_segment

_serial = count(1)
MJML = (
    "<mjml><mj-body><mj-section><mj-column>"
    "<mj-text>Hi {{ customer.first_name }}, <a href='{{ unsubscribe_url }}'>unsubscribe</a>"
    "</mj-text></mj-column></mj-section></mj-body></mjml>"
)


def make_email_template(**fields) -> MessageTemplate:
    fields = {"subject": "Hello {{ customer.first_name }}", "message": MJML} | fields
    return MessageTemplate.objects.create(name=f"Template {next(_serial)}", **fields)


def make_sending_automation(customers, *, segment=None, template=None, **fields) -> Automation:
    """An active automation sending to `customers` (a manual segment)."""
    serial = next(_serial)
    return Automation.objects.create(
        name=f"Automation {serial}",
        cron=fields.pop("cron", "0 9 * * *"),
        customer_segment=segment or make_manual_segment(customers, name=f"Segment {serial}"),
        message_template=template or make_email_template(),
        **fields,
    )


def make_recipients(n: int) -> list[Customer]:
    """`n` customers with valid, distinct emails, in one ingest call."""
    start = next(_serial) * 100_000
    items = [
        {
            "lms_lead_id": f"R-{start + i}",
            "first_name": f"Ravi{i}",
            "last_name": "Kumar",
            "email": f"ravi{start + i}@example.com",
            "attributes": [],
        }
        for i in range(n)
    ]
    result = ingest_customers(items, now=NOW)
    assert not result.errors, result.errors
    return list(Customer.objects.filter(pk__in=[r["id"] for r in result.results]).order_by("pk"))


def empty_segment() -> CustomerSegment:
    return make_manual_segment([], name=f"Empty {next(_serial)}")
