"""Automations for tests, with the segment and template they need."""

from itertools import count

from automations.models import Automation
from segments.models import CustomerSegment
from templates_app.models import MessageTemplate

_serial = count(1)
MJML = "<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>"  # noqa: E501


def make_template(name: str = "", **fields) -> MessageTemplate:
    name = name or f"Template {next(_serial)}"
    return MessageTemplate.objects.create(name=name, subject="Hello", message=MJML, **fields)


def make_segment(name: str = "", **fields) -> CustomerSegment:
    return CustomerSegment.objects.create(name=name or f"Segment {next(_serial)}", **fields)


def make_automation(name: str = "", *, cron: str = "0 9 * * 1-5", **fields) -> Automation:
    fields.setdefault("customer_segment", fields.pop("segment", None) or make_segment())
    fields.setdefault("message_template", fields.pop("template", None) or make_template())
    name = name or f"Automation {next(_serial)}"
    return Automation.objects.create(name=name, cron=cron, **fields)
