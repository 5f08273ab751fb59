"""The API over real HTTP, and its docs page in a real browser under the real CSP."""

import json
import urllib.error
import urllib.request

import pytest

from customers.models import Customer
from marketing_os.models import create_api_key
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
