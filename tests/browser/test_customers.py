"""A marketer logs in, searches customers, pages through them and opens one."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD
from tests.factories import make_customer, make_event


@pytest.mark.django_db(transaction=True)
def test_a_marketer_searches_pages_and_opens_a_customer(browser_page, live_server, user):
    page = browser_page
    # Newest first: the first one made is on page 2.
    target = make_customer(
        first_name="Tanvi",
        last_name="Oldest",
        attributes={"city": ("string", "Pune"), "courses": ("array", ["mba", "law"])},
    )
    make_event(target, from_stage=None, to_stage="lead")
    for serial in range(55):
        make_customer(first_name="Tanvi", last_name=f"Kulkarni{serial:02d}")
    make_customer(first_name="Someone", last_name="Else")

    page.goto("/customers/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/customers/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    page.get_by_label("Search").fill("tanvi")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".result-count")).to_have_text("56 results")
    expect(page.get_by_role("link", name="Someone Else")).to_have_count(0)

    page.get_by_role("link", name="2", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/customers/?q=tanvi&page=2")
    expect(page.get_by_label("Search")).to_have_value("tanvi")
    expect(page.locator("tbody tr")).to_have_count(6)

    page.get_by_role("link", name="Tanvi Oldest").click()
    expect(page.get_by_role("heading", name="Tanvi Oldest")).to_be_visible()
    expect(page.get_by_text(target.lms_lead_id).first).to_be_visible()
    expect(page.locator("td.value", has_text="Pune")).to_be_visible()
    expect(page.locator(".badge", has_text="mba")).to_be_visible()
    expect(page.get_by_text("(entered)")).to_be_visible()
    assert page.problems == []
