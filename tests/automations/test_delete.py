"""Deleting an automation: only while it has no runs (they are the record of what was sent)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from automations.models import Automation, Run
from tests.automations.factories import make_automation

pytestmark = pytest.mark.django_db


def test_deleting_an_active_automation_says_to_refresh_the_crontab(logged_in):
    automation = make_automation("Evening nudge", is_active=True)

    response = logged_in.post(reverse("automations:delete", args=[automation.pk]), follow=True)

    page = response.content.decode()
    assert "Automation “Evening nudge” deleted." in page
    assert "scripts/refresh_automation.sh" in page
    assert not Automation.objects.exists()


def test_an_automation_that_has_run_cannot_be_deleted(logged_in):
    automation = make_automation("Evening nudge")
    Run.objects.create(automation=automation, started_at=datetime(2026, 11, 1, tzinfo=UTC))
    url = reverse("automations:delete", args=[automation.pk])

    page = logged_in.get(url).content.decode()
    assert "It has 1 run, the record of what each customer was sent." in page
    assert "Deactivate it instead" in page

    response = logged_in.post(url, follow=True)
    assert "The automation was not deleted." in response.content.decode()
    assert Automation.objects.filter(pk=automation.pk).exists() and Run.objects.exists()
