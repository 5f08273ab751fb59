"""Per-key rate limits: X-RateLimit-* on every answer, 429 with Retry-After, counted in SQL."""

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from customers.models import Customer
from marketing_os.models import ApiKey, ApiRateCounter, IdempotencyRecord, create_api_key
from marketing_os.rate_limit import count_request
from tests.api.conftest import Api
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

ITEM = {"lms_lead_id": "L-1", "first_name": "Ravi"}


def limited(client, limit: int | None, name: str = "limited") -> tuple[ApiKey, Api]:
    key, raw = create_api_key(name, rate_limit_per_minute=limit)
    return key, Api(client, raw)


def headers_of(response) -> tuple[int, int, int]:
    return tuple(int(response[f"X-RateLimit-{name}"]) for name in ("Limit", "Remaining", "Reset"))


def age_counters(key: ApiKey, by: timedelta = timedelta(minutes=1)) -> None:
    """As if the key's requests so far were made `by` earlier: its minute is over."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE api_rate_counters SET window_start = window_start - %s WHERE api_key_id = %s",
            [by, key.pk],
        )


def test_every_answer_to_a_key_carries_the_rate_limit_headers(client):
    make_customer(lms_lead_id="L-KNOWN")
    _, api = limited(client, 10)

    answers = [
        api.post("customers", ITEM),  # 200
        api.post("customers", body="{not json"),  # 400
        api.post("customer-attributes", {"lms_lead_id": "L-NONE", "field_name": "x"}),  # 422
        api.get("customers/L-KNOWN"),  # 200
        api.get("customers/L-NONE"),  # 404
        api.get("openapi.json"),  # 200
    ]

    assert [a.status_code for a in answers] == [200, 400, 422, 200, 404, 200]
    assert [headers_of(a)[:2] for a in answers] == [(10, 9 - i) for i in range(6)]
    assert all(1 <= headers_of(a)[2] <= 60 for a in answers)
    assert all("Retry-After" not in a for a in answers)


def test_a_key_without_a_limit_of_its_own_follows_the_setting(client, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    _, api = limited(client, None)

    assert headers_of(api.post("customers", ITEM))[:2] == (3, 2)


def test_over_the_limit_the_answer_is_429_with_retry_after_and_nothing_is_written(client):
    key, api = limited(client, 2)
    assert api.post("customers", {"lms_lead_id": "L-1"}).status_code == 200
    assert api.post("customers", {"lms_lead_id": "L-2"}).status_code == 200

    response = api.post("customers", {"lms_lead_id": "L-3"}, headers={"Idempotency-Key": "k3"})

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "rate_limited" and "2 requests a minute" in body["message"]
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60 and body["retry_after"] == retry_after
    assert headers_of(response) == (2, 0, retry_after)
    assert set(Customer.objects.values_list("lms_lead_id", flat=True)) == {"L-1", "L-2"}
    assert not IdempotencyRecord.objects.exists()
    assert ApiRateCounter.objects.get(api_key=key).count == 2  # a refusal is not counted
    assert api.get("customers/L-1").status_code == 429  # reading counts too


def test_when_the_minute_is_over_the_key_may_call_again_and_old_counters_go(client):
    key, api = limited(client, 1)
    api.post("customers", {"lms_lead_id": "L-1"})
    refused = api.post("customers", {"lms_lead_id": "L-2"}, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 429
    age_counters(key)

    response = api.post("customers", {"lms_lead_id": "L-2"}, headers={"Idempotency-Key": "k"})

    assert response.status_code == 200  # the refused request did not use its key up
    assert "Idempotent-Replayed" not in response
    assert headers_of(response)[:2] == (1, 0)
    windows = list(ApiRateCounter.objects.filter(api_key=key).values_list("count", flat=True))
    assert windows == [1]  # the earlier minute's row was deleted by the same statement


def test_a_replayed_idempotent_answer_counts_against_the_limit(client):
    _, api = limited(client, 2)
    first = api.post("customers", ITEM, headers={"Idempotency-Key": "same"})

    replay = api.post("customers", ITEM, headers={"Idempotency-Key": "same"})

    assert replay["Idempotent-Replayed"] == "true" and replay.content == first.content
    assert headers_of(replay)[:2] == (2, 0)
    assert api.post("customers", ITEM, headers={"Idempotency-Key": "same"}).status_code == 429


def test_two_keys_are_limited_independently(client):
    _, first = limited(client, 1, "first")
    _, second = limited(client, 1, "second")
    first.post("customers", ITEM)
    assert first.post("customers", ITEM).status_code == 429

    response = second.post("customers", ITEM)

    assert response.status_code == 200
    assert headers_of(response)[:2] == (1, 0)


def test_an_unlimited_key_is_not_counted_and_gets_no_headers(client):
    key, api = limited(client, 0)

    responses = [api.post("customers", ITEM) for _ in range(5)]

    assert {r.status_code for r in responses} == {200}
    assert all("X-RateLimit-Limit" not in r for r in responses)
    assert not ApiRateCounter.objects.filter(api_key=key).exists()


@pytest.mark.parametrize("raw", [None, "mos_wrong"])
def test_refused_keys_are_not_counted(client, raw):
    _, api = limited(client, 5)

    response = api.post("customers", ITEM, key=raw)

    assert response.status_code == 401 and "X-RateLimit-Limit" not in response
    assert not ApiRateCounter.objects.exists()


def test_the_window_is_the_clock_minute_and_retry_after_counts_to_its_end():
    key, _ = create_api_key("clock", rate_limit_per_minute=2)
    at = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

    assert count_request(key, now=at).reset_seconds == 60
    assert count_request(key, now=at + timedelta(seconds=58, microseconds=100)).remaining == 0
    refused = count_request(key, now=at + timedelta(seconds=59, microseconds=500_000))
    assert refused.exceeded and refused.reset_seconds == 1
    next_minute = count_request(key, now=at + timedelta(minutes=1))
    assert not next_minute.exceeded and next_minute.remaining == 1
    assert ApiRateCounter.objects.filter(api_key=key).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_on_separate_connections_never_exceed_the_limit():
    """As from several server processes: each thread has its own database connection."""
    key, _ = create_api_key("busy", rate_limit_per_minute=25)
    now = datetime.now(UTC)
    allowed: list[bool] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            for _ in range(10):
                state = count_request(key, now=now)
                with lock:
                    allowed.append(not state.exceeded)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(allowed) == 60
    assert allowed.count(True) == 25
    assert ApiRateCounter.objects.get(api_key=key).count == 25


def test_create_api_key_takes_a_rate_limit_and_list_shows_it(settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 600
    out = io.StringIO()
    call_command("create_api_key", "slow", "--rate-limit", "30", stdout=out)
    call_command("create_api_key", "free", "--rate-limit", "0", stdout=io.StringIO())
    call_command("create_api_key", "usual", stdout=io.StringIO())

    assert "rate limit 30/min" in out.getvalue()
    assert ApiKey.objects.get(name="slow").rate_limit_per_minute == 30
    listing = io.StringIO()
    call_command("list_api_keys", stdout=listing)
    lines = listing.getvalue().splitlines()
    assert "rate limit" in lines[0]
    assert "30/min" in next(line for line in lines if "slow" in line)
    assert "unlimited" in next(line for line in lines if "free" in line)
    assert "600/min (default)" in next(line for line in lines if "usual" in line)


def test_create_api_key_refuses_a_negative_rate_limit():
    with pytest.raises(CommandError, match="--rate-limit must be 0"):
        call_command("create_api_key", "x", "--rate-limit", "-1", stdout=io.StringIO())
    assert not ApiKey.objects.exists()
