"""Resend's delivery feedback: `POST /webhooks/resend`, signed with Svix.

Verification follows Svix's documented scheme, by hand (no SDK): the signed
content is `<svix-id>.<svix-timestamp>.<raw body>`, HMAC-SHA256 keyed with the
base64 secret after `whsec_`, base64 encoded; `svix-signature` holds one or
more space-separated `v1,<signature>` (several while a secret is rotated).
A timestamp more than 5 minutes from now is refused, so a captured call cannot
be replayed later; a replay inside the window is harmless because each event
is stored once, unique on its svix-id.

Each event is logged (`DeliveryEvent`) and moves the matching delivery's
`feedback` forward (never back: a late "delivered" does not hide a bounce).
Hard bounces and complaints suppress the address; soft bounces do not.
"""

import base64
import binascii
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from automations.erasure import redacted
from automations.models import Delivery, DeliveryEvent, Suppression
from automations.unsubscribe import suppress

logger = logging.getLogger(__name__)

TOLERANCE = timedelta(minutes=5)
Feedback = Delivery.Feedback
# A delivery's feedback only moves to an equal or higher rank.
RANK = {
    "": 0,
    Feedback.SENT: 1,
    Feedback.DELAYED: 2,
    Feedback.SOFT_BOUNCED: 3,
    Feedback.DELIVERED: 4,
    Feedback.BOUNCED: 5,
    Feedback.COMPLAINED: 6,
}
SOFT_BOUNCE_TYPES = ("transient", "soft", "undetermined")


class BadSignature(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: datetime) -> None:
    """Raise `BadSignature` unless `body` was signed with `secret` within the tolerance."""
    msg_id, stamp, signatures = (
        headers.get(h, "") for h in ("svix-id", "svix-timestamp", "svix-signature")
    )
    if not (msg_id and stamp and signatures):
        raise BadSignature("missing svix headers")
    try:
        sent = datetime.fromtimestamp(int(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise BadSignature("bad timestamp") from None
    if abs(now - sent) > TOLERANCE:
        raise BadSignature("timestamp outside the tolerance")
    signed = msg_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    offered = [s.partition(",")[2] for s in signatures.split() if s.startswith("v1,")]
    # Bytes, so a non-ASCII header cannot make compare_digest raise.
    if not any(hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in offered):
        raise BadSignature("no matching signature")


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ImproperlyConfigured("RESEND_WEBHOOK_SECRET is not a whsec_ secret") from None


def sign(secret: str, msg_id: str, stamp: int, body: bytes) -> str:
    """The `svix-signature` value Svix would send (for tests and local demos)."""
    signed = f"{msg_id}.{stamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@login_not_required
@csrf_exempt  # authenticated by its signature, not a session
@require_POST
def resend_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.RESEND_WEBHOOK_SECRET
    if not secret:
        logger.error("Resend webhook called but RESEND_WEBHOOK_SECRET is not set")
        return JsonResponse({"error": "The webhook is not configured."}, status=503)
    headers = {
        name: request.headers.get(name, "")
        for name in ("svix-id", "svix-timestamp", "svix-signature")
    }
    now = timezone.now()
    try:
        verify(secret, headers, request.body, now=now)
    except ImproperlyConfigured as error:
        logger.error("Resend webhook: %s", error)
        return JsonResponse({"error": "The webhook is not configured."}, status=503)
    except BadSignature as error:
        logger.warning("Resend webhook refused: %s", error)
        return JsonResponse({"error": "Invalid signature."}, status=401)
    try:
        event = json.loads(request.body)
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise ValueError("no event type")
    except ValueError:
        return JsonResponse({"error": "The body is not a Resend event."}, status=400)
    outcome = record_event(event, svix_id=headers["svix-id"], now=now)
    return JsonResponse({"ok": True, "outcome": outcome})


def record_event(event: dict, *, svix_id: str, now: datetime) -> str:
    """Log the event and apply it; "replay" when this svix-id was seen before."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    resend_id = str(data.get("email_id") or "")
    try:
        with transaction.atomic():
            delivery = _delivery(resend_id)
            DeliveryEvent.objects.create(
                svix_id=svix_id,
                type=event["type"],
                resend_id=resend_id,
                delivery=delivery,
                occurred_at=_when(event.get("created_at")),
                received_at=now,
                # A late event about an erased person's email must not bring the address back.
                payload=redacted(event) if delivery and delivery.customer.is_erased else event,
            )
            return _apply(event["type"], data, delivery, now=now)
    except IntegrityError:
        return "replay"


def _delivery(resend_id: str) -> Delivery | None:
    if not resend_id:
        return None
    delivery = (
        Delivery.objects.select_for_update()
        .select_related("customer")
        .filter(resend_id=resend_id)
        .first()
    )
    if delivery is None:
        logger.info("Resend event for an email not sent from here: %s", resend_id)
    return delivery


def _when(value: object) -> datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _apply(kind: str, data: dict, delivery: Delivery | None, *, now: datetime) -> str:
    feedback = _feedback(kind, data)
    if feedback in (Feedback.BOUNCED, Feedback.COMPLAINED):
        _suppress(feedback, data, delivery, now=now)
    if delivery is None:
        return "unknown email"
    if kind == "email.opened" and delivery.opened_at is None:
        delivery.opened_at = now
    elif kind == "email.clicked" and delivery.clicked_at is None:
        delivery.clicked_at = now
    elif feedback and RANK[feedback] >= RANK[delivery.feedback]:
        delivery.feedback, delivery.feedback_at = feedback, now
    delivery.save(update_fields=["feedback", "feedback_at", "opened_at", "clicked_at"])
    return "recorded"


def _feedback(kind: str, data: dict) -> str:
    if kind == "email.bounced":
        bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
        soft = str(bounce.get("type", "")).lower().startswith(SOFT_BOUNCE_TYPES)
        return Feedback.SOFT_BOUNCED if soft else Feedback.BOUNCED
    simple = {
        "email.sent": Feedback.SENT,
        "email.delivered": Feedback.DELIVERED,
        "email.delivery_delayed": Feedback.DELAYED,
        "email.complained": Feedback.COMPLAINED,
    }
    return simple.get(kind, "")


def _suppress(feedback: str, data: dict, delivery: Delivery | None, *, now: datetime) -> None:
    """Suppress the address the email went to (even one this database did not send)."""
    source = (
        Suppression.Source.HARD_BOUNCE
        if feedback == Feedback.BOUNCED
        else Suppression.Source.COMPLAINT
    )
    if delivery is not None:
        suppress(delivery.customer, delivery.email, source=source, now=now)
        return
    to = data.get("to")
    for address in to if isinstance(to, list) else [to]:
        if isinstance(address, str):
            suppress(None, address, source=source, now=now)
