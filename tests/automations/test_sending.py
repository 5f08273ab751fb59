import time

import pytest

from automations.sending import (
    BatchFailed,
    Pacer,
    RetryPolicy,
    RunStopped,
    send_batch_reliably,
)
from templates_app.mailer import Email

FAST = RetryPolicy(max_attempts=30, base_delay=0.001, max_delay=0.01)


def emails(count: int, *, start: int = 0) -> list[Email]:
    return [
        Email(
            to=f"asha{n}@example.com",
            subject="Hi",
            html="<p>Hi</p>",
            text="Hi",
            tags={"automation": "7", "run": "3"},
        )
        for n in range(start, start + count)
    ]


def test_the_pacer_starts_calls_one_interval_apart():
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        clock[0] += seconds

    pacer = Pacer(4, clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        pacer.wait()
    assert slept == [0.25, 0.25]


def test_a_hold_pushes_the_next_call_back():
    clock = [10.0]
    slept = []
    pacer = Pacer(100, clock=lambda: clock[0], sleep=slept.append)
    pacer.wait()
    pacer.hold(2.0)
    pacer.wait()
    assert slept == [2.0]


def test_paced_batches_never_trip_the_rate_limit(fake_resend):
    fake_resend.rate_limit = 20
    pacer = Pacer(20)
    started = time.monotonic()
    for n in range(12):
        send_batch_reliably(emails(5, start=n * 5), idempotency_key=f"k{n}", pacer=pacer)
    assert time.monotonic() - started >= 11 / 20
    assert fake_resend.throttled == 0
    assert len(fake_resend.emails) == 60


def test_sending_too_fast_is_throttled_and_every_email_still_goes_once(fake_resend):
    fake_resend.rate_limit = 10  # a bucket of 10, refilled at 10 a second
    pacer = Pacer(10_000)
    for n in range(20):
        send_batch_reliably(emails(2, start=n * 2), idempotency_key=f"k{n}", pacer=pacer)
    assert fake_resend.throttled > 0
    assert set(fake_resend.accepted_by_recipient().values()) == {1}
    assert len(fake_resend.accepted_by_recipient()) == 40


def test_a_429_waits_for_retry_after(fake_resend):
    fake_resend.respond_next(429, retry_after=0.3)
    outcome = send_batch_reliably(emails(3), idempotency_key="k", pacer=Pacer(1000))
    first, second = fake_resend.calls
    assert second.at - first.at >= 0.3
    assert (outcome.attempts, len(outcome.result.ids)) == (2, 3)


def test_a_storm_of_500s_ends_with_every_recipient_accepted_exactly_once(fake_resend):
    fake_resend.failure_rate = 0.5
    for n in range(20):
        send_batch_reliably(
            emails(10, start=n * 10), idempotency_key=f"k{n}", pacer=Pacer(1000), policy=FAST
        )
    counts = fake_resend.accepted_by_recipient()
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert any(call.status == 500 for call in fake_resend.calls)


def test_a_timed_out_call_that_resend_accepted_is_not_delivered_twice(settings, fake_resend):
    settings.RESEND_TIMEOUT_SECONDS = 0.2
    fake_resend.hang_seconds = 0.5

    def sleep_after_the_hang(seconds):
        fake_resend.hang_seconds = 0
        time.sleep(seconds)

    pacer = Pacer(1000, sleep=sleep_after_the_hang)
    policy = RetryPolicy(base_delay=0.6)
    outcome = send_batch_reliably(
        emails(4), idempotency_key="k", pacer=pacer, policy=policy, jitter=lambda: 1.0
    )
    assert outcome.attempts == 2
    assert len(fake_resend.emails) == 4  # the replay answered the first call's ids
    assert sorted(outcome.result.ids.values()) == sorted(e["id"] for e in fake_resend.emails)


def test_an_invalid_address_fails_alone(fake_resend):
    batch = emails(3)
    batch[1] = Email(to="not-an-address", subject="Hi", html="<p>Hi</p>", text="Hi")
    outcome = send_batch_reliably(batch, idempotency_key="k", pacer=Pacer(1000))
    assert sorted(outcome.result.ids) == [0, 2]
    assert "Invalid `to` field" in outcome.result.errors[1]
    assert fake_resend.calls[0].headers["x-batch-validation"] == "permissive"
    assert len(fake_resend.emails) == 2


def test_each_email_carries_its_tags(fake_resend):
    send_batch_reliably(emails(1), idempotency_key="k", pacer=Pacer(1000))
    assert fake_resend.emails[0]["tags"] == [
        {"name": "automation", "value": "7"},
        {"name": "run", "value": "3"},
    ]


def test_a_wrong_key_stops_the_run(settings, fake_resend):
    settings.RESEND_API_KEY = "re_revoked"
    with pytest.raises(RunStopped, match="API key is invalid"):
        send_batch_reliably(emails(1), idempotency_key="k", pacer=Pacer(1000), policy=FAST)
    assert len(fake_resend.calls) == 1


def test_it_gives_up_after_the_allowed_attempts(fake_resend):
    fake_resend.respond_next(503, times=10)
    policy = RetryPolicy(max_attempts=3, base_delay=0.001)
    with pytest.raises(BatchFailed, match="Gave up after 3 attempts") as raised:
        send_batch_reliably(emails(1), idempotency_key="k", pacer=Pacer(1000), policy=policy)
    assert raised.value.attempts == 3
    assert fake_resend.emails == []


def test_a_key_reused_for_other_emails_is_not_retried(fake_resend):
    send_batch_reliably(emails(1), idempotency_key="k", pacer=Pacer(1000))
    with pytest.raises(BatchFailed, match="409"):
        send_batch_reliably(emails(1, start=5), idempotency_key="k", pacer=Pacer(1000))
    assert len(fake_resend.calls) == 2
