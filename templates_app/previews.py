"""Previews: a template as a chosen sample customer would get it, on screen or
in a test inbox. Both go through `render_message`, like the real sender."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from customers.models import Customer
from customers.personalisation import customer_context, sample_context
from templates_app.mailer import Email, send_email
from templates_app.rendering import (
    RenderedMessage,
    RenderError,
    TemplateSyntaxError,
    compile_template,
    normalise_newlines,
    render_message,
)

log = logging.getLogger(__name__)
BUILT_IN = "sample"


@dataclass(frozen=True)
class Sample:
    key: str  # a customer id, or BUILT_IN
    label: str
    context: dict


@dataclass(frozen=True)
class Preview:
    rendered: RenderedMessage | None
    errors: list[str]
    variables: list[str]
    missing: list[str]  # variables the sample customer has no value for


def preview_unsubscribe_url() -> str:
    # A stand-in: the signed per-customer link is made by the sender.
    return f"{settings.SITE_URL}/unsubscribe/preview/"


def choose_sample(key: str | None) -> Sample:
    """The customer asked for (by id), else the newest, else the built-in sample (never an
    erased customer)."""
    customers = Customer.objects.not_erased().prefetch_related("attributes")
    customer = None
    if key and key.isdigit():
        customer = customers.filter(pk=int(key)).first()
    elif key != BUILT_IN:
        customer = customers.order_by("-created_date", "-id").first()
    if customer is None:
        context = sample_context(unsubscribe_url=preview_unsubscribe_url())
        return Sample(BUILT_IN, "Built-in sample (Priya Sharma)", context)
    context = customer_context(customer, unsubscribe_url=preview_unsubscribe_url())
    return Sample(str(customer.pk), f"{customer} <{customer.email or 'no email'}>", context)


def find_customers(q: str, *, limit: int = 10) -> list[Customer]:
    """Customers whose name, email, mobile or lead id starts with the words of `q`."""
    if not q.strip():
        return []
    return list(Customer.objects.search(q).order_by("last_name", "first_name", "id")[:limit])


def preview(template: object, sample: Sample) -> Preview:
    """Render `template` (saved or a draft) for `sample`, collecting problems as words."""
    try:
        message = normalise_newlines(template.message or "")
        compiled = compile_template(template.type, template.subject or "", message)
        variables = list(compiled.variables)
        rendered = render_message(template, sample.context)
    except TemplateSyntaxError as error:
        return Preview(None, [str(e) for e in error.errors], [], [])
    except RenderError as error:
        return Preview(None, [str(error)], variables, [])
    missing = [name for name in variables if not _has_value(sample.context, name)]
    return Preview(rendered, [], variables, missing)


def preview_document(template: object, sample: Sample) -> str:
    """The HTML shown in the preview frame: the email itself, or a WhatsApp bubble,
    or the problems that stop it from rendering."""
    result = preview(template, sample)
    if result.rendered is None:
        return render_to_string("templates_app/preview_errors.html", {"errors": result.errors})
    if template.type == "whatsapp":
        return render_to_string(
            "templates_app/preview_whatsapp.html", {"text": result.rendered.text}
        )
    return result.rendered.html


def send_test_email(template: object, *, to: str, sample: Sample) -> str:
    """Send `template` rendered for `sample` to `to`; return Resend's id.

    Raises MailerNotConfigured, SendError, TemplateSyntaxError or RenderError.
    """
    rendered = render_message(template, sample.context)
    try:
        resend_id = send_email(
            Email(to=to, subject=rendered.subject, html=rendered.html, text=rendered.text)
        )
    except Exception as error:
        log.warning("test send of template %s to %s failed: %s", template.pk, to, error)
        raise
    log.info("test send of template %s to %s accepted by Resend as %s", template.pk, to, resend_id)
    return resend_id


def _has_value(context: dict, path: str) -> bool:
    """Whether `customer.attributes.x`-style `path` leads to a value in `context`."""
    value: object = context
    for segment in path.replace("[", ".").replace("]", "").replace("'", "").split("."):
        if segment in ("size", "first", "last") and isinstance(value, list | str):
            return True  # Liquid's own properties of a value that is there
        if not isinstance(value, dict) or segment not in value:
            return False
        value = value[segment]
    return value not in (None, "", [])
