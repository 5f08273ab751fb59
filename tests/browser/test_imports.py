import pytest

from customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(live_server, django_user_model, settings, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_user_model.objects.create_user(username="marketer", password="a-long-test-password")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "marketer")
        page.fill("#id_password", "a-long-test-password")
        page.click("button[type=submit]")
        yield page
        browser.close()


def test_a_marketer_uploads_a_file_and_sees_counts_and_bad_lines(page, live_server, tmp_path):
    csv_path = tmp_path / "leads.csv"
    csv_path.write_text("lms_lead_id,first_name,email\nL-1,Asha,a@x.com\n,Nobody,n@x.com\n")

    page.goto(f"{live_server.url}/imports/new/?kind=customers")
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
