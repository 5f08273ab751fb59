import base64
import json
import time

import pytest
from django.test import Client

from automations.models import Delivery, DeliveryEvent, Suppression
from automations.runs import run_automation
from automations.webhooks import sign
from tests.automations.sending_factories import make_sending_automation
from tests.factories import NOW, make_customer

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"a test signing secret of 32 bytes").decode()
URL = "/webhooks/resend"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.RESEND_WEBHOOK_SECRET = SECRET


def post(event: dict, *, msg_id: str = "msg_1", stamp: int | None = None, signature=None):
    body = json.dumps(event).encode()
    stamp = int(time.time()) if stamp is None else stamp
    signature = signature or sign(SECRET, msg_id, stamp, body)
    return Client(enforce_csrf_checks=True).post(
        URL,
        body,
        content_type="application/json",
        headers={"svix-id": msg_id, "svix-timestamp": str(stamp), "svix-signature": signature},
    )


def event(kind: str, resend_id: str, **data) -> dict:
    payload = {"email_id": resend_id, "to": ["someone@example.com"]} | data
    return {"type": kind, "created_at": "2026-11-24T09:31:00.000Z", "data": payload}


@pytest.fixture
def sent(fake_resend):
    """A run that sent to two customers: their deliveries, by address."""
    customers = [make_customer(email="one@example.com"), make_customer(email="two@example.com")]
    automation = make_sending_automation(customers)
    run = run_automation(automation.pk, now=NOW).run
    return {d.email: d for d in run.deliveries.all()} | {"automation": automation}


def test_a_signed_event_updates_the_delivery_and_is_logged(sent):
    delivery = sent["one@example.com"]
    response = post(event("email.delivered", delivery.resend_id))
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.feedback == "delivered"
    logged = DeliveryEvent.objects.get()
    assert (logged.type, logged.delivery, logged.svix_id) == ("email.delivered", delivery, "msg_1")


def test_any_of_several_signatures_may_match(sent):
    delivery = sent["one@example.com"]
    stamp = int(time.time())
    body = json.dumps(event("email.opened", delivery.resend_id)).encode()
    good = sign(SECRET, "msg_9", stamp, body)
    response = Client().post(
        URL,
        body,
        content_type="application/json",
        headers={
            "svix-id": "msg_9",
            "svix-timestamp": str(stamp),
            "svix-signature": f"v1,bm90IGl0 {good}",
        },
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.opened_at is not None


@pytest.mark.parametrize(
    "signature",
    ["v1,c2lnbmVkIHdpdGggYW5vdGhlciBrZXk=", "v2,abc", "", "garbage"],
)
def test_a_badly_signed_or_unsigned_call_gets_401_and_changes_nothing(sent, signature):
    delivery = sent["one@example.com"]
    body = json.dumps(event("email.bounced", delivery.resend_id)).encode()
    headers = {"svix-id": "msg_1", "svix-timestamp": str(int(time.time()))}
    if signature:
        headers["svix-signature"] = signature
    response = Client().post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert not DeliveryEvent.objects.exists()
    assert not Suppression.objects.exists()


def test_a_changed_body_no_longer_matches_its_signature(sent):
    delivery = sent["one@example.com"]
    stamp = int(time.time())
    signature = sign(SECRET, "msg_1", stamp, json.dumps(event("email.opened", "x")).encode())
    response = post(event("email.bounced", delivery.resend_id), stamp=stamp, signature=signature)
    assert response.status_code == 401


@pytest.mark.parametrize("age", [301, -301])
def test_a_stale_or_future_timestamp_is_refused(sent, age):
    delivery = sent["one@example.com"]
    response = post(event("email.complained", delivery.resend_id), stamp=int(time.time()) - age)
    assert response.status_code == 401
    assert not Suppression.objects.exists()


def test_a_replayed_event_is_acknowledged_and_applied_once(sent):
    delivery = sent["one@example.com"]
    first = post(event("email.bounced", delivery.resend_id))
    again = post(event("email.bounced", delivery.resend_id))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["outcome"] == "replay"
    assert DeliveryEvent.objects.count() == 1
    assert delivery.customer.subscription_changes.count() == 1


def test_an_unknown_email_id_is_logged_and_acknowledged(sent):
    response = post(event("email.delivered", "not-ours"))
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown email"
    assert DeliveryEvent.objects.get().delivery is None


def test_without_a_secret_the_webhook_refuses_everything(sent, settings):
    settings.RESEND_WEBHOOK_SECRET = ""
    response = post(event("email.delivered", sent["one@example.com"].resend_id))
    assert response.status_code == 503
    assert not DeliveryEvent.objects.exists()


def test_a_malformed_secret_is_a_503_not_a_500(sent, settings):
    post(event("email.delivered", sent["one@example.com"].resend_id))
    settings.RESEND_WEBHOOK_SECRET = "whsec_not base64!"
    response = post(event("email.delivered", "x"), msg_id="msg_2")
    assert response.status_code == 503
    assert DeliveryEvent.objects.count() == 1


def test_a_signed_body_that_is_not_an_event_gets_400(sent):
    assert post(["not", "an", "event"]).status_code == 400


def test_a_late_delivered_does_not_hide_a_bounce(sent):
    delivery = sent["one@example.com"]
    post(event("email.bounced", delivery.resend_id), msg_id="a")
    post(event("email.delivered", delivery.resend_id), msg_id="b")
    delivery.refresh_from_db()
    assert delivery.feedback == "bounced"


def test_a_hard_bounce_suppresses_the_address_and_the_next_run_skips_it(sent, fake_resend):
    delivery = sent["one@example.com"]
    bounce = {"type": "Permanent", "subType": "General", "message": "No such user"}
    post(event("email.bounced", delivery.resend_id, bounce=bounce))
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("one@example.com", "hard_bounce")
    fake_resend.emails.clear()
    run = run_automation(sent["automation"].pk, now=NOW, scheduled=False).run
    assert (run.accepted, run.skipped_unsubscribed) == (1, 1)
    assert fake_resend.accepted_by_recipient() == {"two@example.com": 1}


def test_a_soft_bounce_does_not_suppress(sent):
    delivery = sent["one@example.com"]
    post(event("email.bounced", delivery.resend_id, bounce={"type": "Transient"}))
    delivery.refresh_from_db()
    assert delivery.feedback == "soft_bounced"
    assert not Suppression.objects.exists()


def test_a_complaint_suppresses_the_address(sent):
    delivery = sent["two@example.com"]
    post(event("email.complained", delivery.resend_id))
    assert Suppression.objects.get().reason == "complaint"
    assert Delivery.objects.get(pk=delivery.pk).feedback == "complained"


def test_a_hard_bounce_of_an_email_sent_elsewhere_still_suppresses_its_address(sent):
    response = post(event("email.bounced", "sent-by-another-tool", to=["Lost@Example.com"]))
    assert response.json()["outcome"] == "unknown email"
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.customer) == ("lost@example.com", None)
