from datetime import UTC, datetime

import pytest
from django.urls import reverse

from automations import run_views
from automations.models import Run
from automations.runs import run_automation
from tests.automations.sending_factories import (
    make_email_template,
    make_recipients,
    make_sending_automation,
)
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast(fake_resend, settings):
    settings.RESEND_REQUESTS_PER_SECOND = 10_000


@pytest.fixture
def sent_run(fake_resend):
    customers = [*make_recipients(3), make_customer(email="")]
    fake_resend.reject = {customers[1].email}
    automation = make_sending_automation(customers)
    return run_automation(automation.pk, now=NOW, scheduled=False).run


def run_url(run: Run) -> str:
    return reverse("automations:run_detail", args=[run.automation_id, run.pk])


def test_the_automation_page_lists_its_runs_with_counts(admin_client, sent_run):
    url = reverse("automations:detail", args=[sent_run.automation_id])
    response = admin_client.get(url)
    html = response.content.decode()
    assert run_url(sent_run) in html
    assert "Failed" in html and "(run now)" in html
    assert reverse("automations:run_now", args=[sent_run.automation_id]) in html
    assert 'http-equiv="refresh"' not in html


def test_the_automation_page_shows_progress_and_refreshes_while_a_run_goes(logged_in):
    automation = make_sending_automation(make_recipients(1))
    Run.objects.create(automation=automation, started_at=NOW, to_send=200, accepted=50)
    html = logged_in.get(reverse("automations:detail", args=[automation.pk])).content.decode()
    assert 'http-equiv="refresh"' in html
    assert "50 / 200" in html


def test_the_run_page_lists_recipients_with_status_resend_id_and_error(
    logged_in, sent_run, fake_resend, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):  # +2: the user's permissions (role check, nav)
        response = logged_in.get(run_url(sent_run))
    html = response.content.decode()
    assert response.status_code == 200
    accepted = sent_run.deliveries.filter(status="accepted").first()
    assert accepted.resend_id in html
    assert "Invalid `to` field" in html
    assert "No email" in html


def test_the_run_page_searches_by_email_and_status(logged_in, sent_run):
    failed = sent_run.deliveries.get(status="failed")
    response = logged_in.get(run_url(sent_run), {"status": "failed"})
    rows = list(response.context["table"].page.object_list)
    assert [row.record.email for row in rows] == [failed.email]
    response = logged_in.get(run_url(sent_run), {"q": failed.email.upper()})
    assert [r.record.email for r in response.context["table"].page.object_list] == [failed.email]


def test_the_run_page_paginates_on_the_server(logged_in, fake_resend):
    automation = make_sending_automation(make_recipients(60))
    run = run_automation(automation.pk, now=NOW, scheduled=False).run
    response = logged_in.get(run_url(run), {"per_page": 25, "page": 3})
    assert len(response.context["table"].page.object_list) == 10


def test_a_run_of_another_automation_is_not_found(logged_in, sent_run):
    other = make_sending_automation([])
    url = reverse("automations:run_detail", args=[other.pk, sent_run.pk])
    assert logged_in.get(url).status_code == 404


def test_run_now_asks_first_then_starts_in_the_background(admin_client, monkeypatch):
    started = []
    monkeypatch.setattr(
        run_views, "start_background_run", lambda a, user: started.append(a.pk) or ""
    )
    automation = make_sending_automation(make_recipients(1))
    url = reverse("automations:run_now", args=[automation.pk])
    assert "Yes, send now" in admin_client.get(url).content.decode()
    assert started == []
    response = admin_client.post(url)
    assert started == [automation.pk]
    assert response.status_code == 302 and "?started=" in response.url
    page = admin_client.get(response.url).content.decode()
    assert "Starting the run" in page and 'http-equiv="refresh"' in page


def test_run_now_says_why_it_cannot_run_and_starts_nothing(admin_client, monkeypatch):
    started = []
    monkeypatch.setattr(run_views, "start_background_run", lambda a, user: started.append(a) or "")
    template = make_email_template(type="whatsapp", subject="", message="Hi")
    automation = make_sending_automation([], template=template)
    url = reverse("automations:run_now", args=[automation.pk])
    assert "WhatsApp sending is not implemented yet" in admin_client.get(url).content.decode()
    admin_client.post(url)
    assert started == []


def test_the_customer_page_lists_the_messages_sent_to_them(
    logged_in, sent_run, django_assert_max_num_queries
):
    delivery = sent_run.deliveries.filter(status="accepted").select_related("customer").first()
    url = reverse("customers:detail", args=[delivery.customer_id])
    with django_assert_max_num_queries(12):  # +2: the user's permissions (role check, nav)
        html = logged_in.get(url).content.decode()
    assert "Messages" in html and delivery.resend_id in html
    assert run_url(sent_run) in html


def test_the_automation_list_shows_each_last_run(
    logged_in, sent_run, django_assert_max_num_queries
):
    make_sending_automation([])
    with django_assert_max_num_queries(10):  # +2: the user's permissions (role check, nav)
        html = logged_in.get(reverse("automations:list")).content.decode()
    assert run_url(sent_run) in html
