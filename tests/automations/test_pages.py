import pytest
from django.urls import reverse

from automations.models import Automation
from segments.models import CustomerSegment
from tests.automations.factories import make_automation, make_segment, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_crontab(monkeypatch, tmp_path):
    """Pages read an empty crontab unless a test installs one."""
    fake = tmp_path / "crontab"
    fake.write_text('#!/bin/sh\necho "no crontab for test" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("CRONTAB_BIN", str(fake))


def test_the_list_shows_segment_template_schedule_in_words_and_next_run(logged_in, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    make_automation(
        "Welcome series",
        cron="0 9 * * 1-5",
        segment=make_segment("New leads", type=CustomerSegment.Type.SQL),
        template=make_template("Welcome mail"),
    )

    page = logged_in.get(reverse("automations:list")).content.decode()

    assert "Welcome series" in page
    assert "New leads" in page and "(SQL query)" in page
    assert "Welcome mail" in page and "(Email)" in page
    assert "At 09:00, Monday through Friday" in page
    assert "Next run (Asia/Kolkata)" in page
    assert "09:00" in page


def test_the_list_searches_names_of_automation_segment_and_template(logged_in):
    make_automation("Welcome series", segment=make_segment("New leads"))
    make_automation("Winback", template=make_template("Come back"))
    make_automation("Birthday")

    def names(**params):
        response = logged_in.get(reverse("automations:list"), params)
        return {row.record.name for row in response.context["table"].page.object_list}

    assert names(q="welcome") == {"Welcome series"}
    assert names(q="leads") == {"Welcome series"}
    assert names(q="come back") == {"Winback"}
    assert names(q="nothing-like-this") == set()


def test_the_list_filters_by_active_segment_and_template(logged_in):
    segment = make_segment("VIP")
    on = make_automation("On", segment=segment)
    make_automation("Off", segment=segment, is_active=False)
    other = make_automation("Other")

    def names(**params):
        response = logged_in.get(reverse("automations:list"), params)
        return {row.record.name for row in response.context["table"].page.object_list}

    assert names(is_active="false") == {"Off"}
    assert names(is_active="true") == {"On", "Other"}
    assert names(customer_segment=segment.pk) == {"On", "Off"}
    assert names(message_template=other.message_template_id) == {"Other"}
    assert names(is_active="true", customer_segment=segment.pk) == {on.name}


def test_a_bad_filter_value_is_a_form_error_not_a_500(logged_in):
    response = logged_in.get(reverse("automations:list"), {"customer_segment": "abc"})

    assert response.status_code == 200
    assert response.context["filter"].form.errors


def test_the_list_paginates_in_sql_with_few_queries(logged_in, django_assert_max_num_queries):
    segment, template = make_segment(), make_template()
    for n in range(55):
        make_automation(f"Automation {n:02d}", segment=segment, template=template)

    with django_assert_max_num_queries(12):
        first = logged_in.get(reverse("automations:list"))
    second = logged_in.get(reverse("automations:list"), {"page": 2})

    assert len(first.context["table"].page.object_list) == 50
    assert [row.record.name for row in second.context["table"].page.object_list] == [
        f"Automation {n}" for n in range(50, 55)
    ]


def test_the_detail_page_shows_the_schedule_next_runs_and_zone(logged_in, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    automation = make_automation("Welcome", cron="30 8 1,15 * *")

    page = logged_in.get(automation.get_absolute_url()).content.decode()

    assert "30 8 1,15 * *" in page
    assert "At 08:30, on day 1 and 15 of the month" in page
    assert "Next runs" in page and "Asia/Kolkata" in page
    assert page.count("08:30</li>") == 5
    assert automation.customer_segment.name in page
    assert automation.message_template.name in page


def test_the_detail_page_says_when_the_crontab_misses_the_automation(logged_in):
    automation = make_automation()

    page = logged_in.get(automation.get_absolute_url()).content.decode()

    assert 'data-state="missing"' in page
    assert "scripts/refresh_automation.sh" in page


def test_the_detail_page_says_when_the_crontab_cannot_be_read(logged_in, monkeypatch):
    monkeypatch.setenv("CRONTAB_BIN", "/nonexistent/crontab")
    automation = make_automation()

    page = logged_in.get(automation.get_absolute_url()).content.decode()

    assert 'data-state="unknown"' in page


def test_the_detail_page_of_a_missing_automation_is_404(logged_in):
    assert logged_in.get(reverse("automations:detail", args=[999999])).status_code == 404


def test_the_new_page_offers_segments_and_templates_with_their_type(logged_in):
    make_segment("Leads", type=CustomerSegment.Type.MANUAL)
    make_template("Promo")

    page = logged_in.get(reverse("automations:new")).content.decode()

    assert "Leads (Manual list)" in page
    assert "Promo (Email)" in page
    assert "data-cron-builder" in page
    assert "automations/cron_builder.js" in page


def test_creating_an_automation_stores_the_normalised_cron_and_its_author(logged_in, user):
    segment, template = make_segment(), make_template()

    response = logged_in.post(
        reverse("automations:new"),
        {
            "name": "Weekday mornings",
            "customer_segment": segment.pk,
            "message_template": template.pk,
            "cron": " 0  9 * * MON-FRI",
            "is_active": "on",
        },
    )

    automation = Automation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == automation.get_absolute_url()
    assert (automation.cron, automation.is_active, automation.created_by) == (
        "0 9 * * MON-FRI",
        True,
        user,
    )


def test_an_invalid_cron_is_refused_on_the_server_with_the_reason(logged_in):
    segment, template = make_segment(), make_template()

    response = logged_in.post(
        reverse("automations:new"),
        {"name": "Bad", "customer_segment": segment.pk, "message_template": template.pk,
         "cron": "0 0 31 2 *"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "none of these days exists in the chosen months" in response.content.decode()
    assert not Automation.objects.exists()


def test_editing_prefills_the_builder_and_saves_changes(logged_in):
    automation = make_automation("Old", cron="5 4 * * sun")

    page = logged_in.get(reverse("automations:edit", args=[automation.pk])).content.decode()
    response = logged_in.post(
        reverse("automations:edit", args=[automation.pk]),
        {"name": "New", "customer_segment": automation.customer_segment_id,
         "message_template": automation.message_template_id, "cron": "*/15 * * * *"},
    )  # fmt: skip

    assert 'value="5 4 * * sun"' in page
    assert "&quot;names&quot;: &quot;lower&quot;" in page
    automation.refresh_from_db()
    assert response.status_code == 302
    assert (automation.name, automation.cron, automation.is_active) == (
        "New",
        "*/15 * * * *",
        False,
    )


def test_pages_need_a_login(client):
    response = client.get(reverse("automations:list"))

    assert response.status_code == 302
