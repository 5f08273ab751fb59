from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from funnel.ingest import ingest_events
from funnel.models import FunnelEvent
from tests.factories import make_customer, make_event

pytestmark = pytest.mark.django_db


def test_it_inserts_events_and_answers_their_ids_in_the_order_sent(now):
    customer = make_customer()
    items = [
        {"lms_lead_id": customer.lms_lead_id, "funnel_type": "sales", "to_stage": "lead"},
        {
            "customer_id": customer.pk,
            "funnel_type": "sales",
            "from_stage": "lead",
            "to_stage": "contacted",
            "created_date": "2026-11-20T08:00:00Z",
        },
    ]

    result = ingest_events(items, now=now)

    events = [FunnelEvent.objects.get(pk=pk) for pk in result.ids]
    assert [(e.from_stage, e.to_stage) for e in events] == [(None, "lead"), ("lead", "contacted")]
    assert [e.created_date for e in events] == [now, datetime(2026, 11, 20, 8, tzinfo=UTC)]


def test_ids_follow_the_order_sent_though_rows_are_written_in_customer_order(now):
    first, second = make_customer(lms_lead_id="L-1"), make_customer(lms_lead_id="L-2")
    order = [second, first, second, first, first]
    items = [
        {"customer_id": c.pk, "funnel_type": "sales", "to_stage": f"stage-{n}"}
        for n, c in enumerate(order)
    ]

    result = ingest_events(items, now=now)

    assert result.ids == sorted(result.ids)
    events = [FunnelEvent.objects.get(pk=pk) for pk in result.ids]
    assert [(e.customer_id, e.to_stage) for e in events] == [
        (c.pk, f"stage-{n}") for n, c in enumerate(order)
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"funnel_type": "marketing"}, "funnel_type"),
        ({"to_stage": ""}, "to_stage"),
        ({"created_date": "last tuesday"}, "created_date"),
        ({"created_date": "1900-01-01T00:00:00Z"}, "created_date"),
        ({"lms_lead_id": "nobody"}, "lms_lead_id"),
        ({"stage": "x"}, "stage"),
    ],
)
def test_it_refuses_bad_events_and_stores_none_of_the_request(now, change, field):
    customer = make_customer()
    good = {"lms_lead_id": customer.lms_lead_id, "funnel_type": "sales", "to_stage": "lead"}

    result = ingest_events([good, good | change], now=now)

    assert [(e.index, e.field) for e in result.errors] == [(1, field)]
    assert not FunnelEvent.objects.exists()


@pytest.mark.parametrize(
    "statement", ["UPDATE funnel_events SET to_stage = 'x'", "DELETE FROM funnel_events"]
)
def test_the_database_refuses_to_change_or_delete_an_event(statement):
    event = make_event(make_customer(), to_stage="contacted")

    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)

    event.refresh_from_db()
    assert event.to_stage == "contacted"
