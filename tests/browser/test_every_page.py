"""Every page of CONTRACT §6 (and the operator pages beside them), opened as each role.

A role opens what it may (200, no script error, CSP refusal or failed request) and is
shown the 403 page, nothing else, where it may not. Each page is photographed: into
`docs/screenshots/<role>/` with `UPDATE_SCREENSHOTS=1` (`make screenshots`), else into
the test's temporary folder, so a plain `make test` leaves the tree untouched.
"""

import importlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Page, expect

from automations.models import Automation
from automations.runs import run_automation
from customers.models import Customer
from funnel.demo_data import load_demo_data
from funnel.models import FunnelEvent
from marketing_os.models import create_api_key
from marketing_os.roles import ADMIN, MARKETER, ROLES, VIEWER, Role
from segments.evaluation import evaluate_segment
from segments.models import CustomerSegment
from templates_app.models import MessageTemplate
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
STARTERS = importlib.import_module("templates_app.migrations.0002_starter_templates").STARTERS
APPLIED = """SELECT c.id FROM customers c
JOIN customer_attributes a ON a.customer_id = c.id
WHERE a.field_name = 'application_status'"""


@dataclass(frozen=True)
class Screen:
    name: str  # the screenshot's file name
    path: str  # with {placeholders} from the data below
    role: Role  # the lowest role that may open it


SCREENS = [
    Screen("customers", "/customers/", VIEWER),
    Screen("customer", "/customers/{customer}/", VIEWER),
    Screen("events", "/events/", VIEWER),
    Screen("event", "/events/{event}/", VIEWER),
    Screen("segments", "/segments/", VIEWER),
    Screen("segment-new", "/segments/new/", MARKETER),
    Screen("segment", "/segments/{segment}/", VIEWER),
    Screen("segment-edit", "/segments/{segment}/edit/", MARKETER),
    Screen("segment-customers", "/segments/{segment}/customers/", VIEWER),
    Screen("templates", "/templates/", VIEWER),
    Screen("template-new", "/templates/new/", MARKETER),
    Screen("template", "/templates/{template}/", VIEWER),
    Screen("template-edit", "/templates/{template}/edit/", MARKETER),
    Screen("automations", "/automations/", VIEWER),
    Screen("automation-new", "/automations/new/", MARKETER),
    Screen("automation", "/automations/{automation}/", VIEWER),
    Screen("automation-edit", "/automations/{automation}/edit/", MARKETER),
    Screen("run", "/automations/{automation}/runs/{run}/", VIEWER),
    Screen("imports", "/imports/", VIEWER),
    Screen("import-new", "/imports/new/?kind=customers", MARKETER),
    Screen("audit", "/audit/", VIEWER),
    Screen("users", "/settings/users/", ADMIN),
    Screen("api-keys", "/settings/api-keys/", ADMIN),
    Screen("api-key-new", "/settings/api-keys/new/", ADMIN),
    Screen("api-key", "/settings/api-keys/{api_key}/", ADMIN),
    Screen("api-key-revoke", "/settings/api-keys/{api_key}/revoke/", ADMIN),
]


def screenshot_dir(role: Role, tmp_path: Path) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        folder = Path(settings.BASE_DIR) / "docs" / "screenshots" / role.name
    else:
        folder = tmp_path / role.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def living_system(fake_resend, monkeypatch, tmp_path) -> SimpleNamespace:
    """Demo customers and events, a segment, the starter templates, an automation that ran."""
    crontab = tmp_path / "crontab"  # the automation page reads an empty crontab
    crontab.write_text('#!/bin/sh\necho "no crontab for test" >&2\nexit 1\n')
    crontab.chmod(0o755)
    monkeypatch.setenv("CRONTAB_BIN", str(crontab))
    load_demo_data(80, seed=7, now=NOW)
    segment = CustomerSegment.objects.create(
        name="Applied, any status",
        type=CustomerSegment.Type.SQL,
        selection_sql=APPLIED,
        description="Leads who started an application.",
    )
    evaluate_segment(segment, now=NOW)
    templates = [MessageTemplate.objects.create(type="email", **starter) for starter in STARTERS]
    automation = Automation.objects.create(
        name="Application nudge",
        customer_segment=segment,
        message_template=templates[1],
        cron="0 10 * * 1-5",
        is_active=True,
    )
    outcome = run_automation(automation.pk, now=NOW, scheduled=False)
    customer = Customer.objects.filter(pk__in=[d.customer_id for d in outcome.run.deliveries.all()])
    leads = tmp_path / "leads-november.csv"
    leads.write_text("lms_lead_id,first_name,mobile\nLMS-2026-000003,,+91 90000 00003\n,Nobody,\n")
    call_command("import_csv", "customers", str(leads), stdout=StringIO())
    api_key, _ = create_api_key("LMS sync", scopes=["ingest"])
    create_api_key("BI reader", scopes=["read"], rate_limit_per_minute=60)
    create_api_key("Old CRM bridge")[0].revoke(now=NOW)
    return SimpleNamespace(
        api_key=api_key.pk,
        customer=customer.order_by("pk").first().pk,
        event=FunnelEvent.objects.order_by("pk").first().pk,
        segment=segment.pk,
        template=templates[0].pk,
        automation=automation.pk,
        run=outcome.run.pk,
    )


def open_screen(page: Page, url: str, *, allowed: bool) -> None:
    response = page.goto(url)
    page.wait_for_load_state("networkidle")  # the editors' live previews have landed
    if allowed:
        assert response.status == 200, url
        expect(page.locator("main h1").first).to_be_visible()
        assert page.problems == [], url
    else:
        assert response.status == 403, url
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        assert [problem.split(" ")[0] for problem in page.problems] == ["403"], url
    page.problems.clear()


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_each_role_opens_every_page_it_may_and_is_refused_the_rest(
    browser_page, django_user_model, living_system, role, tmp_path
):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, django_user_model, f"a-{role.name}", role)
    folder = screenshot_dir(role, tmp_path)

    for screen in SCREENS:
        allowed = ROLES.index(role) >= ROLES.index(screen.role)
        open_screen(page, screen.path.format(**vars(living_system)), allowed=allowed)
        page.screenshot(path=folder / f"{screen.name}.png", full_page=True)

    assert len(list(folder.glob("*.png"))) == len(SCREENS)
    connections.close_all()  # this thread's connection, opened while Playwright's loop runs
