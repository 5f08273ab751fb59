import re

import pytest
from django.urls import reverse
from django.utils import timezone

from automations.models import Delivery, SubscriptionChange, Suppression
from automations.runs import run_automation
from automations.unsubscribe import make_token
from automations.webhooks import record_event
from tests.automations.sending_factories import make_sending_automation
from tests.factories import NOW, make_customer

pytestmark = pytest.mark.django_db


def feedback(kind: str, delivery: Delivery, n: int, **data) -> None:
    event = {"type": kind, "data": {"email_id": delivery.resend_id, **data}}
    record_event(event, svix_id=f"{kind}-{delivery.pk}-{n}", now=timezone.now())


@pytest.fixture
def run(fake_resend):
    customers = [make_customer(email=f"c{i}@example.com") for i in range(5)]
    return run_automation(make_sending_automation(customers).pk, now=NOW).run


def test_the_run_page_counts_delivered_bounced_complained_opened_and_clicked(
    logged_in, run, django_assert_max_num_queries
):
    d = list(run.deliveries.order_by("id"))
    for n, delivery in enumerate(d[:3]):
        feedback("email.delivered", delivery, n)
    feedback("email.opened", d[0], 10)
    feedback("email.opened", d[0], 11)  # a second open is still one opened email
    feedback("email.clicked", d[0], 12)
    feedback("email.opened", d[1], 13)
    feedback("email.complained", d[2], 14)
    feedback("email.bounced", d[3], 15, bounce={"type": "Permanent"})
    feedback("email.bounced", d[4], 16, bounce={"type": "Transient"})
    url = reverse("automations:run_detail", args=[run.automation_id, run.pk])
    with django_assert_max_num_queries(9):
        html = logged_in.get(url).content.decode()
    counts = {
        name: re.search(rf'class="run-{name}">(\d+)<', html).group(1)
        for name in ("delivered", "bounced", "complained", "opened", "clicked")
    }
    assert counts == {
        "delivered": "3",
        "bounced": "1",
        "complained": "1",
        "opened": "2",
        "clicked": "1",
    }
    assert "(+1 soft)" in html


def test_the_customer_page_shows_each_messages_delivery_history(logged_in, run):
    delivery = run.deliveries.order_by("id").first()
    feedback("email.sent", delivery, 1)
    feedback("email.delivered", delivery, 2)
    feedback("email.opened", delivery, 3)
    html = logged_in.get(reverse("customers:detail", args=[delivery.customer_id])).content
    html = html.decode()
    assert re.search(r">sent</span>, <span[^>]*>delivered</span>, <span[^>]*>opened<", html)
    assert "Delivered</span>" in html


def test_the_customer_page_says_when_and_how_a_customer_unsubscribed(client, user):
    customer = make_customer(email="asha@example.com")
    client.post(reverse("unsubscribe", args=[make_token(customer.pk)]))
    client.force_login(user)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "asha@example.com is suppressed since" in html
    assert "(unsubscribe link)" in html
    assert re.search(r"<td[^>]*>Unsubscribed</td>\s*<td[^>]*>Unsubscribe link</td>", html)


def test_re_subscribing_needs_a_reason_and_records_who_and_why(admin_client, admin_user):
    customer = make_customer(email="asha@example.com")
    Suppression.objects.create(email="asha@example.com", reason="hard_bounce", customer=customer)
    url = reverse("automations:customer_resubscribe", args=[customer.pk])
    admin_client.post(url, {"reason": "  "})
    assert Suppression.objects.exists()
    response = admin_client.post(url, {"reason": "Asked by phone; address fixed"}, follow=True)
    assert not Suppression.objects.exists()
    change = SubscriptionChange.objects.get()
    assert (change.action, change.changed_by, change.reason) == (
        "resubscribed",
        admin_user,
        "Asked by phone; address fixed",
    )
    html = response.content.decode()
    assert "Asked by phone; address fixed" in html
    assert "Receives marketing email at asha@example.com" in html


def test_customers_can_be_filtered_by_unsubscribed(logged_in):
    gone = make_customer(email="Gone@Example.com", first_name="Gone")
    make_customer(email="here@example.com", first_name="Here")
    Suppression.objects.create(email="gone@example.com", reason="link", customer=gone)
    yes = logged_in.get(reverse("customers:list"), {"unsubscribed": "yes"}).content.decode()
    no = logged_in.get(reverse("customers:list"), {"unsubscribed": "no"}).content.decode()
    assert "Gone@Example.com" in yes and "here@example.com" not in yes
    assert "here@example.com" in no and "Gone@Example.com" not in no


def test_the_run_page_lists_only_the_bounced_recipients_when_asked(logged_in, run):
    bounced, delivered = list(run.deliveries.order_by("id"))[:2]
    feedback("email.bounced", bounced, 1)
    feedback("email.delivered", delivered, 2)
    url = reverse("automations:run_detail", args=[run.automation_id, run.pk])
    html = logged_in.get(url, {"feedback": "bounced"}).content.decode()
    assert bounced.email in html and delivered.email not in html
