"""The cron builder in a real browser: both directions, validation, keyboard, the edit page."""

import pytest
from playwright.sync_api import expect

from automations.models import Automation
from automations.scheduling import describe_cron
from tests.automations.factories import make_automation, make_segment, make_template
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

# expression, the builder mode that reproduces it
ROUND_TRIP = [
    ("*/15 * * * *", "preset"),
    ("0 9 * * 1-5", "preset"),
    ("30 8 1,15 * *", "advanced"),
    ("0 0 1 1 *", "advanced"),
    ("5 4 * * sun", "advanced"),
    ("0 */2 * * *", "advanced"),
    ("0 9-17 * * MON-FRI", "advanced"),
    ("45 6 15 * *", "preset"),
    ("15 10 * Jan-Mar Mon", "advanced"),
    ("* * * * *", "advanced"),
]


@pytest.fixture
def page(browser_page, django_user_model, monkeypatch, tmp_path):
    fake = tmp_path / "crontab"  # the detail page reads an empty crontab
    fake.write_text('#!/bin/sh\necho "no crontab for test" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("CRONTAB_BIN", str(fake))
    log_in(browser_page, django_user_model)
    yield browser_page
    assert browser_page.problems == []  # no script errors, CSP refusals or failed requests


def regenerate(page) -> str:
    """Clear the expression and let the builder write it again from its controls."""
    return page.evaluate(
        """() => {
          const root = document.querySelector('[data-cron-builder]');
          const input = root.querySelector('[data-role=expression]');
          input.value = '';
          const control = root.querySelector('[data-role=preset]');
          control.dispatchEvent(new Event('change', {bubbles: true}));
          return input.value;
        }"""
    )


def test_typing_an_expression_fills_the_builder_which_gives_it_back(page):
    make_segment(), make_template()
    page.goto("/automations/new/")
    expression = page.get_by_label("Schedule (cron)")
    for cron, mode in ROUND_TRIP:
        expression.fill(cron)
        expect(page.locator("[data-role=description]")).to_have_text(describe_cron(cron))
        expect(page.locator(f"[data-role=mode][value={mode}]")).to_be_checked()

        assert regenerate(page) == cron


def test_an_expression_cron_cannot_run_is_refused_inline_with_the_reason(page):
    page.goto("/automations/new/")
    expression = page.get_by_label("Schedule (cron)")

    expression.fill("0 0 31 2 *")

    expect(page.get_by_role("status")).to_contain_text("none of these days exists")
    expect(expression).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-role=runs-box]")).to_be_hidden()


def test_clicking_the_builder_writes_the_expression_and_describes_it(page, settings):
    page.goto("/automations/new/")
    expression = page.get_by_label("Schedule (cron)")
    expect(expression).to_have_value("0 9 * * *")  # a new schedule starts as daily at 09:00

    page.get_by_label("Simple").check()
    page.get_by_label("Repeat").select_option("weekly")
    expect(page.get_by_role("status")).to_contain_text("Choose at least one day of the week.")
    page.get_by_label("Monday").check()
    page.get_by_label("Wednesday").press("Space")  # keyboard works as well as the mouse
    page.get_by_label("Hour (0–23)").fill("7")
    page.get_by_label("Minute (0–59)").fill("30")

    expect(expression).to_have_value("30 7 * * 1,3")
    expect(page.locator("[data-role=description]")).to_have_text(
        "At 07:30, only on Monday and Wednesday"
    )
    expect(page.locator("[data-role=runs] li")).to_have_count(5)
    expect(page.locator("[data-role=zone]")).to_have_text(settings.TIME_ZONE)

    page.get_by_label("Advanced (each field)").check()
    page.get_by_role("group", name="Hour").get_by_label("Range").check()
    page.get_by_label("Hour: from").select_option("9")
    page.get_by_label("Hour: to").select_option("17")

    expect(expression).to_have_value("30 9-17 * * 1,3")


def test_an_automation_round_trips_through_the_edit_page(page):
    segment, template = make_segment("Leads"), make_template("Promo")
    page.goto("/automations/new/")
    page.get_by_label("Name").fill("Weekday mornings")
    page.get_by_label("Customer segment").select_option(str(segment.pk))
    page.get_by_label("Message template").select_option(str(template.pk))
    page.get_by_label("Schedule (cron)").fill("0 9-17 * * MON-FRI")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Weekday mornings")).to_be_visible()
    automation = Automation.objects.get()
    assert automation.cron == "0 9-17 * * MON-FRI"

    page.get_by_role("link", name="Edit").click()

    expect(page.locator("[data-role=mode][value=advanced]")).to_be_checked()
    expect(page.get_by_label("Day of week: from")).to_have_value("1")
    expect(page.get_by_label("Day of week: to")).to_have_value("5")
    assert regenerate(page) == "0 9-17 * * MON-FRI"


def test_long_segment_lists_get_a_filter_box(page):
    for n in range(12):
        make_segment(f"Segment {n:02d}")
    wanted = make_segment("Lapsed customers")
    make_automation("Existing")  # adds a segment of its own

    page.goto("/automations/new/")
    page.get_by_label("Filter Customer segment").fill("lapsed")

    expect(page.get_by_label("Customer segment", exact=True)).to_have_value(str(wanted.pk))
