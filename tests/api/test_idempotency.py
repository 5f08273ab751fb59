import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from customers.ingest import ingest_customers
from customers.models import Customer
from funnel.models import FunnelEvent
from marketing_os.api import purge_idempotency_records
from marketing_os.models import IdempotencyRecord, create_api_key
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
KEY = {"Idempotency-Key": "order-42"}


def event(to_stage: str = "lead") -> dict:
    return {"lms_lead_id": "L-1", "funnel_type": "sales", "to_stage": to_stage}


def test_a_repeat_replays_the_first_answer_byte_for_byte_and_stores_nothing(api):
    make_customer(lms_lead_id="L-1")

    first = api.post("funnel-events", [event(), event("contacted")], headers=KEY)
    again = api.post("funnel-events", [event(), event("contacted")], headers=KEY)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert FunnelEvent.objects.count() == 2


def test_a_repeat_matches_the_same_data_however_it_is_spaced_or_ordered(api):
    first = api.post("customers", body='{"lms_lead_id": "L-1", "first_name": "A"}', headers=KEY)
    again = api.post("customers", body='{"first_name":"A","lms_lead_id":"L-1"}', headers=KEY)

    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


def test_a_repeat_does_not_undo_changes_made_since(api):
    api.post("customers", {"lms_lead_id": "L-1", "first_name": "A"}, headers=KEY)
    api.post("customers", {"lms_lead_id": "L-1", "first_name": "B"})

    api.post("customers", {"lms_lead_id": "L-1", "first_name": "A"}, headers=KEY)

    assert Customer.objects.get().first_name == "B"


def test_the_same_key_with_a_different_body_answers_409_and_stores_nothing(api):
    api.post("customers", {"lms_lead_id": "L-1"}, headers=KEY)

    response = api.post("customers", {"lms_lead_id": "L-2"}, headers=KEY)

    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_key_reused"
    assert list(Customer.objects.values_list("lms_lead_id", flat=True)) == ["L-1"]


def test_the_same_key_on_another_endpoint_answers_409(api):
    make_customer(lms_lead_id="L-1")
    api.post("funnel-events", event(), headers=KEY)

    response = api.post(
        "customer-attributes",
        {"lms_lead_id": "L-1", "field_name": "a", "field_type": "string", "field_value": "x"},
        headers=KEY,
    )

    assert response.status_code == 409


def test_keys_belong_to_one_api_key(api):
    _, other = create_api_key("another system")
    api.post("customers", {"lms_lead_id": "L-1"}, headers=KEY)

    response = api.post("customers", {"lms_lead_id": "L-2"}, key=other, headers=KEY)

    assert response.status_code == 200
    assert Customer.objects.count() == 2


def test_a_rejected_request_does_not_use_up_its_key(api):
    """A 422 for an unknown customer can be retried with the same key once it exists."""
    first = api.post("funnel-events", event(), headers=KEY)
    make_customer(lms_lead_id="L-1")

    again = api.post("funnel-events", event(), headers=KEY)

    assert (first.status_code, again.status_code) == (422, 201)
    assert FunnelEvent.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 201


def test_a_key_older_than_24_hours_counts_as_new(api):
    api.post("customers", {"lms_lead_id": "L-1"}, headers=KEY)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = api.post("customers", {"lms_lead_id": "L-2"}, headers=KEY)

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_bad_idempotency_key_answers_400(api, key):
    response = api.post("customers", {"lms_lead_id": "L-1"}, headers={"Idempotency-Key": key})

    assert response.status_code == 400
    assert response.json()["error"] == "bad_idempotency_key"
    assert not Customer.objects.exists()


def test_a_key_of_255_characters_is_fine(api):
    response = api.post("customers", {"lms_lead_id": "L-1"}, headers={"Idempotency-Key": "k" * 255})

    assert response.status_code == 200


def test_purging_deletes_only_records_older_than_24_hours(api):
    for n in range(3):
        api.post("customers", {"lms_lead_id": f"L-{n}"}, headers={"Idempotency-Key": f"k{n}"})
    now = timezone.now()
    IdempotencyRecord.objects.filter(key__in=["k0", "k1"]).update(
        created_at=now - timedelta(days=2)
    )

    assert purge_idempotency_records(now=now) == 2
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k2"]


def test_each_new_key_purges_a_batch_of_expired_records(api):
    api.post("customers", {"lms_lead_id": "L-1"}, headers={"Idempotency-Key": "old"})
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))

    api.post("customers", {"lms_lead_id": "L-2"}, headers={"Idempotency-Key": "new"})

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_store_once_and_answer_alike(api_key, monkeypatch):
    """The second request waits on the unique index until the first commits."""
    raw = api_key[1]
    entered = threading.Event()

    def slow_ingest(items, *, now):
        entered.set()
        time.sleep(0.5)  # hold the transaction open while the other request arrives
        return ingest_customers(items, now=now)

    monkeypatch.setattr("customers.api.ingest_customers", slow_ingest)
    answers = []

    def call() -> None:
        try:
            answers.append(
                Client().post(
                    "/api/v1/customers",
                    {"lms_lead_id": "L-1"},
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {raw}", **KEY},
                )
            )
        finally:
            connection.close()

    first = threading.Thread(target=call)
    first.start()
    assert entered.wait(5)
    second = threading.Thread(target=call)
    second.start()
    first.join(10)
    second.join(10)

    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    assert Customer.objects.count() == 1
