"""The API over real HTTP, and its docs page in a real browser under the real CSP."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from marketing_os.models import create_api_key
from marketing_os.roles import ADMIN
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def send(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_a_real_client_stores_customers_and_replays_a_retry(live_server):
    _, raw = create_api_key("upstream")
    headers = {
        "Authorization": f"Bearer {raw}",
        "Content-Type": "application/json",
        "Idempotency-Key": "batch-1",
    }
    body = json.dumps([{"lms_lead_id": "L-1"}, {"lms_lead_id": "L-2"}]).encode()

    first = send(f"{live_server.url}/api/v1/customers", body, headers)
    again = send(f"{live_server.url}/api/v1/customers", body, headers)
    refused = send(
        f"{live_server.url}/api/v1/customers", b"\xff{", headers | {"Idempotency-Key": "x"}
    )

    assert first == again and first[0] == 200 and first[1]["created"] == 2
    assert refused[0] == 400
    assert Customer.objects.count() == 2


def test_the_docs_page_shows_the_api_without_breaking_the_content_security_policy(
    browser_page, django_user_model, tmp_path
):
    page = browser_page
    log_in(page, django_user_model, "ops")
    page.goto("/api/v1/docs")

    assert page.locator("h1").inner_text().startswith("Marketing OS API")
    page.click("a[href='#funnel_events_post']")
    assert page.locator("#funnel_events_post").is_visible()
    assert page.locator("#customers_post table").inner_text().count("attributes[]") == 3
    page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=True)
    assert page.problems == []  # no CSP refusals, script errors or failed requests


def test_an_admin_makes_a_read_only_key_uses_it_and_revokes_it(
    browser_page, django_user_model, live_server
):
    page = browser_page
    log_in(page, django_user_model, "root-admin", ADMIN)
    page.goto("/customers/")
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("link", name="New API key").click()
    page.get_by_label("Name").fill("BI reader")
    page.get_by_label("ingest (POST customers, attributes, funnel events)").uncheck()
    page.get_by_label("Rate limit per minute").fill("2")
    page.get_by_role("button", name="Create API key").click()

    expect(page.get_by_text("Copy the key now: it is shown only this once.")).to_be_visible()
    raw = page.get_by_label("API key").input_value()
    headers = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}
    posted = send(f"{live_server.url}/api/v1/customers", b'{"lms_lead_id": "L-1"}', headers)
    assert posted[0] == 403 and posted[1]["scope"] == "ingest"
    read = urllib.request.Request(f"{live_server.url}/api/v1/openapi.json", headers=headers)
    with urllib.request.urlopen(read, timeout=10) as response:
        assert response.headers["X-RateLimit-Limit"] == "2"
    page.get_by_role("link", name="Done").click()
    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke").click()

    expect(page.get_by_text("API key “BI reader” revoked")).to_be_visible()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(read, timeout=10)
    assert refused.value.code == 401
    page.goto("/settings/api-keys/")
    expect(page.locator("table.api-key-list tbody tr")).to_have_count(1)
    expect(page.locator("table.api-key-list tbody")).to_contain_text("revoked")
    assert raw not in page.content()
    assert page.problems == []
