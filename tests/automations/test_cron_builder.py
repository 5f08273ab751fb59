import json

import pytest
from django import forms
from django.urls import reverse

from automations.forms import CronField


class ScheduleForm(forms.Form):
    cron = CronField()


def preview(client, expression):
    response = client.get(reverse("automations:cron_preview"), {"expression": expression})
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_the_preview_describes_the_schedule_and_lists_five_runs_in_the_server_zone(
    logged_in, settings
):
    settings.TIME_ZONE = "Asia/Kolkata"

    answer = preview(logged_in, " 0 9 * * MON-FRI ")

    assert answer["valid"] is True
    assert answer["expression"] == "0 9 * * MON-FRI"
    assert answer["description"] == "At 09:00, Monday through Friday"
    assert answer["time_zone"] == "Asia/Kolkata"
    assert len(answer["next_runs"]) == 5
    assert all(run.endswith("09:00") for run in answer["next_runs"])
    assert answer["builder"]["fields"]["weekday"]["names"] == "upper"


@pytest.mark.django_db
def test_the_preview_gives_the_builder_state_for_a_typed_expression(logged_in):
    answer = preview(logged_in, "0 9 * * 1-5")

    assert answer["builder"] == {
        "mode": "preset",
        "preset": "weekly",
        "weekdays": [1, 2, 3, 4, 5],
        "hour": 9,
        "minute": 0,
    }
    assert answer["advanced"]["fields"]["weekday"]["kind"] == "range"


@pytest.mark.django_db
def test_the_preview_refuses_what_cron_cannot_run_with_the_reason(logged_in):
    answer = preview(logged_in, "0 0 31 2 *")

    assert answer == {
        "valid": False,
        "error": "Day of month: none of these days exists in the chosen months.",
    }


@pytest.mark.django_db
def test_the_preview_needs_a_login(client):
    response = client.get(reverse("automations:cron_preview"), {"expression": "* * * * *"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_form_field_refuses_an_invalid_expression_with_the_reason():
    form = ScheduleForm({"cron": "61 * * * *"})

    assert not form.is_valid()
    assert form.errors["cron"] == ["Minute: 61 is out of range 0-59"]


def test_the_form_field_stores_the_normalised_expression():
    form = ScheduleForm({"cron": "  */15  *  * * * "})

    assert form.is_valid()
    assert form.cleaned_data["cron"] == "*/15 * * * *"


def test_the_widget_carries_the_builder_state_and_labels_every_control():
    html = str(ScheduleForm(initial={"cron": "5 4 * * sun"})["cron"])

    assert 'value="5 4 * * sun"' in html
    state = json.loads(html.split('data-state="')[1].split('"')[0].replace("&quot;", '"'))
    assert state["builder"]["fields"]["weekday"] == {
        "kind": "values",
        "values": [0],
        "names": "lower",
    }
    for control_id in ("id_cron-preset", "id_cron-minute-values", "id_cron-weekday-range"):
        assert f'for="{control_id}"' in html
    assert "<script" not in html  # CSP: the script comes from a file


@pytest.mark.django_db
def test_the_preview_refuses_an_overlong_expression(logged_in):
    answer = preview(logged_in, "1," * 60 + "2 * * * *")

    assert answer == {"valid": False, "error": "A cron expression is at most 100 characters."}
