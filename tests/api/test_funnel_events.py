from datetime import UTC, datetime

import pytest

from funnel.models import FunnelEvent
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_it_creates_events_and_answers_201_with_their_ids_in_order(api):
    customer = make_customer(lms_lead_id="L-1")

    response = api.post(
        "funnel-events",
        [
            {"lms_lead_id": "L-1", "funnel_type": "sales", "to_stage": "lead"},
            {"customer_id": customer.pk, "funnel_type": "sales", "from_stage": "lead",
             "to_stage": "contacted", "created_date": "2026-11-20T10:00:00+05:30"},
        ],
    )  # fmt: skip

    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 2
    events = [FunnelEvent.objects.get(pk=pk) for pk in body["ids"]]
    assert [(e.from_stage, e.to_stage) for e in events] == [(None, "lead"), ("lead", "contacted")]
    assert events[1].created_date == datetime(2026, 11, 20, 4, 30, tzinfo=UTC)


def test_it_answers_422_naming_every_bad_event_and_stores_none(api):
    make_customer(lms_lead_id="L-1")

    response = api.post(
        "funnel-events",
        [
            {"lms_lead_id": "L-1", "funnel_type": "sales", "to_stage": "lead"},
            {"lms_lead_id": "ghost", "funnel_type": "sales", "to_stage": "lead"},
            {"lms_lead_id": "L-1", "funnel_type": "marketing", "to_stage": "lead"},
            {"lms_lead_id": "L-1", "funnel_type": "sales", "to_stage": "x", "created_date": "soon"},
            {"funnel_type": "sales", "to_stage": "lead"},
        ],
    )

    assert response.status_code == 422
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [
        (1, "lms_lead_id"),
        (2, "funnel_type"),
        (3, "created_date"),
        (4, "lms_lead_id"),
    ]
    assert not FunnelEvent.objects.exists()
