"""An SQL segment made in a real browser: type fields, preview, save, page its customers."""

import pytest

from segments.models import CustomerSegment
from tests.browser.conftest import log_in
from tests.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)
SQL = "SELECT id\nFROM customers\nWHERE last_name = 'Sharma'  -- the Sharma family"


def test_a_marketer_previews_saves_and_pages_an_sql_segment(browser_page, django_user_model):
    page = browser_page
    sharmas = [make_customer(last_name="Sharma") for _ in range(55)]
    make_customer(last_name="Verma")
    log_in(page, django_user_model)
    page.goto("/segments/new/")

    page.check("input[name=type][value=sql]")
    assert page.locator("fieldset[data-segment-type=sql]").is_visible()
    assert not page.locator("fieldset[data-segment-type=manual]").is_visible()
    assert not page.locator("fieldset[data-segment-type=function]").is_visible()
    page.fill("input[name=name]", "Sharmas")
    page.fill("textarea[name=selection_sql]", SQL)
    page.click("button[name=preview]")
    assert page.locator("#preview-count").inner_text() == "55"
    assert page.locator("#preview tbody tr").count() == 20
    assert page.input_value("textarea[name=selection_sql]") == SQL
    assert page.input_value("input[name=name]") == "Sharmas"
    assert page.url.endswith("/segments/new/")  # previewing saved nothing

    page.click("button:has-text('Save segment')")
    page.wait_for_url("**/segments/*/")
    assert page.locator("#member-count").inner_text() == "55"
    assert "FROM customers" in page.locator("#segment-sql").inner_text()

    page.click("main a.btn:has-text('Customers')")
    page.wait_for_url("**/segments/*/customers/")
    assert page.locator("table tbody tr").count() == 50
    page.click(".pagination a:has-text('2')")
    page.wait_for_url("**/customers/?*page=2*")
    rows = page.locator("table tbody tr")
    assert rows.count() == 5
    assert sharmas[0].lms_lead_id in rows.all_inner_texts()[-1]

    page.fill("input[name=q]", sharmas[0].lms_lead_id)
    page.click("form.search-form button[type=submit]")
    assert page.locator("table tbody tr").count() == 1
    assert page.problems == []  # no CSP refusals, script errors or failed requests
    assert CustomerSegment.objects.get().last_count == 55
