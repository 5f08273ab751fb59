import pytest
from playwright.sync_api import expect

from automations.models import SubscriptionChange, Suppression
from automations.unsubscribe import make_token
from marketing_os.roles import ADMIN
from tests.browser.conftest import log_in
from tests.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_recipient_unsubscribes_in_one_click_and_a_marketer_re_subscribes(
    browser_page, django_user_model
):
    page = browser_page
    customer = make_customer(email="asha.rao@example.com", first_name="Asha")
    page.goto(f"/unsubscribe/{make_token(customer.pk)}/")
    expect(page.get_by_role("heading", name="Unsubscribe")).to_be_visible()
    expect(page.get_by_text("a•••@example.com")).to_be_visible()
    expect(page.get_by_text("asha.rao")).to_have_count(0)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert Suppression.objects.get().email == "asha.rao@example.com"

    log_in(page, django_user_model, "admin", ADMIN)
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator(".subscription-status")).to_contain_text("suppressed since")
    page.get_by_label("Reason for re-subscribing").fill("Asked us by phone")
    page.get_by_role("button", name="Re-subscribe").click()
    expect(page.locator(".subscription-status")).to_contain_text("Receives marketing email")
    expect(page.locator(".subscription-changes")).to_contain_text("Asked us by phone")
    assert not Suppression.objects.exists()
    assert SubscriptionChange.objects.count() == 2
    assert page.problems == []


def test_a_tampered_link_shows_a_clear_page(browser_page):
    page = browser_page
    customer = make_customer(email="asha@example.com")
    token = make_token(customer.pk)
    response = page.goto(f"/unsubscribe/{token[:-2]}xx/")
    assert response.status == 400
    expect(page.get_by_role("heading", name="This unsubscribe link is not valid")).to_be_visible()
    expect(page.get_by_role("button", name="Unsubscribe")).to_have_count(0)
    assert not Suppression.objects.exists()
