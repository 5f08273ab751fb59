"""A marketer uploads a CSV file and sees what was stored and what was not."""

import pytest

from customers.models import Customer
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser_page, django_user_model):
    log_in(browser_page, django_user_model)
    return browser_page


def test_a_marketer_uploads_a_file_and_sees_counts_and_bad_lines(page, live_server, tmp_path):
    csv_path = tmp_path / "leads.csv"
    csv_path.write_text("lms_lead_id,first_name,email\nL-1,Asha,a@x.com\n,Nobody,n@x.com\n")

    page.goto("/imports/new/?kind=customers")
    assert page.is_checked("input[name=kind][value=customers]")
    page.set_input_files("input[type=file]", str(csv_path))
    page.click("button:has-text('Import')")

    assert page.inner_text(".import-created") == "1"
    assert page.inner_text(".import-skipped") == "1"
    assert "lms_lead_id: is required" in page.inner_text("table")
    with page.expect_download() as download:
        page.click("text=Download the bad lines as CSV")
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert content.splitlines()[1] == "3,lms_lead_id: is required,,Nobody,n@x.com"
    assert Customer.objects.get().first_name == "Asha"

    page.click("text=All imports")
    assert "leads.csv" in page.inner_text("table")
