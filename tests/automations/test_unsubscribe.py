import re

import pytest
from django.test import Client
from django.urls import reverse

from automations.models import SubscriptionChange, Suppression
from automations.runs import run_automation
from automations.unsubscribe import make_token, mask_email, unsubscribe_url
from tests.automations.sending_factories import make_email_template, make_sending_automation
from tests.factories import NOW, make_customer

pytestmark = pytest.mark.django_db


def path_of(customer) -> str:
    return reverse("unsubscribe", args=[make_token(customer.pk)])


def test_the_link_asks_for_confirmation_without_a_login_and_shows_only_a_masked_address(client):
    customer = make_customer(email="Asha.Rao@example.com", first_name="Asha")
    response = client.get(path_of(customer))
    body = response.content.decode()
    assert response.status_code == 200
    assert "A•••@example.com" in body
    assert "Asha.Rao" not in body and "Rao" not in body
    assert re.search(r"<button[^>]*>Unsubscribe</button>", body)
    assert not Suppression.objects.exists()


def test_the_button_unsubscribes_the_address_lower_cased_and_records_how(client):
    customer = make_customer(email="Asha.Rao@example.com")
    response = client.post(path_of(customer))
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("asha.rao@example.com", "link")
    assert suppression.customer == customer
    change = SubscriptionChange.objects.get()
    assert (change.action, change.source) == ("unsubscribed", "link")


def test_a_replayed_unsubscribe_changes_nothing_more(client):
    customer = make_customer(email="asha@example.com")
    for _ in range(3):
        assert client.post(path_of(customer)).status_code == 200
    assert Suppression.objects.count() == 1
    assert SubscriptionChange.objects.count() == 1
    assert "You are unsubscribed" in client.get(path_of(customer)).content.decode()


def test_a_one_click_post_works_without_cookies_or_a_csrf_token():
    customer = make_customer(email="asha@example.com")
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        path_of(customer),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Suppression.objects.get().reason == "one_click"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: "9999" + token,  # another customer id
        lambda token: token.split(":")[0],  # signature cut off
        lambda token: "preview",  # the template preview's stand-in
    ],
)
def test_a_tampered_token_gets_a_clear_400_page_and_unsubscribes_nobody(client, mangle):
    customer = make_customer(email="asha@example.com")
    path = reverse("unsubscribe", args=[mangle(make_token(customer.pk))])
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.content.decode()
    assert not Suppression.objects.exists()


def test_tokens_do_not_reveal_a_guessable_pattern_for_the_next_customer():
    first, second = make_customer(), make_customer()
    assert make_token(first.pk).split(":")[1] != make_token(second.pk).split(":")[1]


def test_masking_keeps_the_first_letter_and_the_domain_only():
    assert mask_email("ravi.kumar@example.org") == "r•••@example.org"
    assert mask_email("") == "•••"


def test_every_email_carries_its_own_link_and_the_one_click_headers(fake_resend, settings):
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@example.com"
    customers = [make_customer(email="a@example.com"), make_customer(email="b@example.com")]
    run_automation(make_sending_automation(customers).pk, now=NOW)
    by_address = {email["to"][0]: email for email in fake_resend.emails}
    for customer in customers:
        email = by_address[customer.email]
        url = unsubscribe_url(customer.pk)
        assert url in email["html"]
        assert email["headers"] == {
            "List-Unsubscribe": f"<{url}>, <mailto:unsubscribe@example.com?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }


def test_a_template_without_the_link_gets_an_unsubscribe_footer(fake_resend):
    customer = make_customer(email="a@example.com")
    template = make_email_template(
        message="<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text>"
        "</mj-column></mj-section></mj-body></mjml>"
    )
    run_automation(make_sending_automation([customer], template=template).pk, now=NOW)
    email = fake_resend.emails[0]
    url = unsubscribe_url(customer.pk)
    assert f'href="{url}"' in email["html"]
    assert email["text"].endswith(f"Unsubscribe: {url}\n")
    assert email["headers"]["List-Unsubscribe"] == f"<{url}>"


def test_an_unsubscribed_customer_is_skipped_by_the_next_run(client, fake_resend):
    stays, leaves = (
        make_customer(email="stays@example.com"),
        make_customer(email="leaves@example.com"),
    )
    automation = make_sending_automation([stays, leaves])
    client.post(path_of(leaves))
    run = run_automation(automation.pk, now=NOW).run
    assert (run.accepted, run.skipped_unsubscribed) == (1, 1)
    assert fake_resend.accepted_by_recipient() == {"stays@example.com": 1}


def test_the_dry_run_sample_shows_the_footer_a_send_would_add(settings):
    settings.RESEND_API_KEY, settings.EMAIL_FROM = "re_test_key", "us@example.com"
    customer = make_customer(email="a@example.com")
    template = make_email_template(
        message="<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text>"
        "</mj-column></mj-section></mj-body></mjml>"
    )
    automation = make_sending_automation([customer], template=template)
    outcome = run_automation(automation.pk, now=NOW, dry_run=True)
    assert f"Unsubscribe: {unsubscribe_url(customer.pk)}" in outcome.sample.text
