"""Unsubscribe links, the headers that carry them, and the suppression list.

A link is `{SITE_URL}/unsubscribe/<token>/` where the token is the customer id
signed with Django's `signing` (salt "unsubscribe", no expiry): anyone can
read the id, nobody without SECRET_KEY can make a valid token for another.
It names the customer, not a delivery, so one link works for every message
and a resumed run renders byte-identical bodies. Unsubscribing suppresses the
customer's current address (lower-cased), which is what the sender checks.
"""

import re
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.html import escape

from audit.recording import Action, record
from automations.models import SubscriptionChange, Suppression
from customers.models import Customer
from templates_app.rendering import RenderedMessage

SALT = "unsubscribe"
ONE_CLICK = {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}  # RFC 8058


class BadToken(Exception):
    """The token was not made by us (tampered, truncated or a stand-in)."""


def make_token(customer_id: int) -> str:
    return signing.Signer(salt=SALT).sign(str(customer_id))


def read_token(token: str) -> int:
    """The customer id in `token`; `BadToken` when its signature does not match."""
    try:
        return int(signing.Signer(salt=SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        raise BadToken(token) from None


def unsubscribe_url(customer_id: int) -> str:
    """A stable, signed link (the same on every resume, so bodies stay identical)."""
    return f"{settings.SITE_URL}/unsubscribe/{make_token(customer_id)}/"


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """List-Unsubscribe (the link, and a mailto when configured) with RFC 8058's one-click."""
    targets = [f"<{url}>"]
    if settings.UNSUBSCRIBE_MAILTO:
        targets.append(f"<mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe>")
    return {"List-Unsubscribe": ", ".join(targets)} | ONE_CLICK


def with_footer(message: RenderedMessage, url: str) -> RenderedMessage:
    """The message with an unsubscribe footer, for templates that leave the link out."""
    link = (
        '<p style="font-size:12px;color:#6b7280;text-align:center">'
        f'<a href="{escape(url)}" style="color:#6b7280">Unsubscribe</a></p>'
    )
    html, count = re.subn(r"</body>", link + "</body>", message.html, count=1, flags=re.I)
    html = html if count else message.html + link
    text = f"{message.text.rstrip()}\n\nUnsubscribe: {url}\n"
    return RenderedMessage(subject=message.subject, html=html, text=text)


def mask_email(email: str) -> str:
    """`a•••@example.com`: enough for its owner to recognise, nothing for anyone else."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "•••"
    return f"{local[:1]}•••@{domain}"


def is_unsubscribed(customer: Customer) -> bool:
    return Suppression.objects.for_address(customer.email).exists()


def normalise(email: str | None) -> str:
    return (email or "").strip().lower()


def suppress(
    customer: Customer | None, email: str, *, source: str, now: datetime, user=None
) -> bool:
    """Suppress `email` (idempotent); True when it was not suppressed before.

    A change is recorded for the customer only when it took effect, so a
    replayed unsubscribe or a second bounce adds nothing.
    """
    email = normalise(email)
    if not email:
        return False
    try:
        with transaction.atomic():
            Suppression.objects.create(email=email, reason=source, customer=customer)
            if customer is not None:
                SubscriptionChange.objects.create(
                    customer=customer,
                    email=email,
                    action=SubscriptionChange.Action.UNSUBSCRIBED,
                    source=source,
                    changed_by=user,
                    changed_at=now,
                )
    except IntegrityError:  # already suppressed (possibly by a concurrent request)
        return False
    return True


def unsubscribe(customer: Customer, *, source: str, now: datetime) -> bool:
    return suppress(customer, customer.email, source=source, now=now)


def resubscribe(customer: Customer, *, user, reason: str, now: datetime) -> bool:
    """Lift the suppression of the customer's address, recording who, when and why.

    It lifts an erased person's (hashed) suppression of the same address too:
    an admin decides this living customer may have email at it.
    """
    email = normalise(customer.email)
    with transaction.atomic():
        deleted, _ = Suppression.objects.for_address(email).delete()
        if deleted:
            change = SubscriptionChange.objects.create(
                customer=customer,
                email=email,
                action=SubscriptionChange.Action.RESUBSCRIBED,
                reason=reason,
                changed_by=user,
                changed_at=now,
            )
            # The address and the reason stay on the customer page (erasure scrubs them there).
            record(
                customer,
                action=Action.RESUBSCRIBE,
                now=now,
                changes={"email subscription": ["unsubscribed", "subscribed"]},
                details={"subscription_change": change.pk},
            )
    return bool(deleted)
