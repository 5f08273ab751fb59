"""'Run now' in a real browser: confirm, the background run, its progress, its recipients."""

import re

import pytest
from django.db import connections
from playwright.sync_api import expect

from automations.models import Run
from marketing_os.roles import ADMIN
from tests.automations.sending_factories import make_recipients, make_sending_automation
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser_page, django_user_model, monkeypatch, tmp_path, fake_resend):
    crontab = tmp_path / "crontab"  # the automation page reads an empty crontab
    crontab.write_text('#!/bin/sh\necho "no crontab for test" >&2\nexit 1\n')
    crontab.chmod(0o755)
    monkeypatch.setenv("CRONTAB_BIN", str(crontab))
    # The background run is another process: it reads the mailer settings from the environment.
    monkeypatch.setenv("RESEND_API_KEY", fake_resend.api_key)
    monkeypatch.setenv("EMAIL_FROM", "Your Next Campus <hello@example.com>")
    monkeypatch.setenv("RESEND_REQUESTS_PER_SECOND", "1000")
    log_in(browser_page, django_user_model, "admin", ADMIN)
    yield browser_page
    assert browser_page.problems == []  # no script errors, CSP refusals or failed requests


def test_run_now_asks_then_sends_in_the_background_and_shows_the_outcome(page, fake_resend):
    customers = make_recipients(120)
    automation = make_sending_automation(customers)
    page.goto(f"/automations/{automation.pk}/")
    page.get_by_role("link", name="Run now").click()
    expect(page.get_by_role("heading", name=re.compile("now\\?"))).to_be_visible()
    page.get_by_role("button", name="Yes, send now").click()

    # The page refreshes itself until the run appears and while it goes.
    history = page.locator("table.run-history")
    expect(history).to_contain_text("Done", timeout=60_000)
    assert len(fake_resend.accepted_by_recipient()) == 120

    history.get_by_role("link").first.click()
    expect(page.locator(".run-summary")).to_contain_text("120 / 120")
    page.get_by_label("Email").fill(customers[0].email)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.deliveries tbody tr")).to_have_count(1)
    expect(page.locator("table.deliveries")).to_contain_text("Accepted")
    run = Run.objects.get(automation=automation)
    assert (run.status, run.accepted, run.slot) == (Run.Status.DONE, 120, None)
    connections.close_all()  # this thread's connection, opened while Playwright's loop runs
