"""'Run now' in a real browser: confirm, the background run, its progress, its recipients."""

import re

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from automations.models import Run
from tests.automations.sending_factories import make_recipients, make_sending_automation

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
def page(django_db_setup, live_server, django_user_model, monkeypatch, tmp_path, fake_resend):
    # (The database before the live server: the server stops first at the end, so the
    # test database can be dropped; CONN_MAX_AGE 0 closes the server threads' connections.)
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    crontab = tmp_path / "crontab"  # the automation page reads an empty crontab
    crontab.write_text('#!/bin/sh\necho "no crontab for test" >&2\nexit 1\n')
    crontab.chmod(0o755)
    monkeypatch.setenv("CRONTAB_BIN", str(crontab))
    # The background run is another process: it reads the mailer settings from the environment.
    monkeypatch.setenv("RESEND_API_KEY", fake_resend.api_key)
    monkeypatch.setenv("EMAIL_FROM", "Your Next Campus <hello@example.com>")
    monkeypatch.setenv("RESEND_REQUESTS_PER_SECOND", "1000")
    django_user_model.objects.create_user(username="marketer", password="a-long-test-password")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not m.location.get("url", "").endswith("/favicon.ico")
                and errors.append(m.text)
            ),
        )
        page.goto("/login/")
        page.get_by_label("Username").fill("marketer")
        page.get_by_label("Password").fill("a-long-test-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        yield page
        context.close()
        browser.close()
    connections.close_all()
    assert errors == []  # no script errors, no CSP violations


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
