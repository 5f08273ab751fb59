from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection

from automations import runs, sending
from automations.models import Batch, Delivery, Run, SendPolicy, Suppression
from automations.runs import AlreadyRunning, Refused, run_automation
from automations.sending import RetryPolicy
from segments.models import CustomerSegmentCustomer
from tests.automations.sending_factories import (
    make_email_template,
    make_recipients,
    make_sending_automation,
)
from tests.factories import make_customer
from tests.segments.factories import make_sql_segment

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def ready_to_send(fake_resend, settings, monkeypatch):
    settings.RESEND_REQUESTS_PER_SECOND = 10_000
    monkeypatch.setattr(sending, "RETRY_POLICY", RetryPolicy(max_attempts=30, base_delay=0.001))
    return fake_resend


def deliveries(run: Run) -> dict[str, tuple]:
    rows = run.deliveries.values_list("email", "status", "skip_reason")
    return {email: (status, reason) for email, status, reason in rows}


# -- Refusals --------------------------------------------------------------------------------


def test_an_unknown_automation_is_refused_in_one_line():
    with pytest.raises(Refused, match="There is no automation with id 999"):
        run_automation(999, now=NOW)


def test_an_inactive_automation_is_refused_and_the_refusal_recorded(fake_resend):
    automation = make_sending_automation(make_recipients(1), is_active=False)
    with pytest.raises(Refused, match="inactive"):
        run_automation(automation.pk, now=NOW)
    run = automation.runs.get()
    assert (run.status, run.finished_at) == (Run.Status.FAILED, NOW)
    assert "inactive" in run.error
    assert fake_resend.calls == []


def test_force_runs_an_inactive_automation(fake_resend):
    automation = make_sending_automation(make_recipients(2), is_active=False)
    outcome = run_automation(automation.pk, now=NOW, force=True)
    assert outcome.exit_code == 0
    assert len(fake_resend.emails) == 2


def test_a_whatsapp_template_is_refused(fake_resend):
    template = make_email_template(
        type="whatsapp", subject="", message="Hi {{ customer.first_name }}"
    )
    automation = make_sending_automation(make_recipients(1), template=template)
    with pytest.raises(Refused, match="^WhatsApp sending is not implemented yet.$"):
        run_automation(automation.pk, now=NOW)
    assert automation.runs.get().status == Run.Status.FAILED


@pytest.mark.parametrize("missing", ["RESEND_API_KEY", "EMAIL_FROM"])
def test_missing_mailer_settings_are_refused(settings, fake_resend, missing):
    setattr(settings, missing, "")
    automation = make_sending_automation(make_recipients(1))
    with pytest.raises(Refused, match=f"needs {missing} to be set"):
        run_automation(automation.pk, now=NOW)
    assert automation.runs.get().error.endswith(f"{missing} to be set.")


def test_a_segment_that_fails_to_evaluate_fails_the_run(fake_resend):
    segment = make_sql_segment("SELECT id FROM no_such_table")
    automation = make_sending_automation([], segment=segment)
    with pytest.raises(Refused, match="The segment could not be evaluated"):
        run_automation(automation.pk, now=NOW)
    run = automation.runs.get()
    assert run.status == Run.Status.FAILED and "no_such_table" in run.error
    assert fake_resend.calls == []


def test_a_second_run_while_one_holds_the_lock_exits_at_once_as_already_running():
    automation = make_sending_automation(make_recipients(1))
    other = psycopg.connect(**_psycopg_params())
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [runs.LOCK_NAMESPACE, automation.pk])
        with pytest.raises(AlreadyRunning, match="already running"):
            run_automation(automation.pk, now=NOW)
    finally:
        other.close()
    assert automation.runs.count() == 0
    assert run_automation(automation.pk, now=NOW).exit_code == 0  # the lock went with it


def _psycopg_params() -> dict:
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    return {k: v for k, v in params.items() if v} | {"password": db["PASSWORD"] or None}


# -- Recipients and skip rules ---------------------------------------------------------------


def test_it_sends_every_member_once_and_records_each_outcome(fake_resend):
    customers = make_recipients(3)
    automation = make_sending_automation(customers)
    outcome = run_automation(automation.pk, now=NOW)
    run = outcome.run
    assert (outcome.exit_code, run.status) == (0, Run.Status.DONE)
    assert (run.members, run.to_send, run.accepted, run.failed) == (3, 3, 3, 0)
    ids = {e["to"][0]: e["id"] for e in fake_resend.emails}
    recorded = dict(run.deliveries.values_list("email", "resend_id"))
    assert recorded == ids
    assert fake_resend.emails[0]["subject"] == f"Hello {customers[0].first_name}"
    assert fake_resend.emails[0]["tags"] == [
        {"name": "automation", "value": str(automation.pk)},
        {"name": "run", "value": str(run.pk)},
    ]
    assert "/unsubscribe/" in fake_resend.emails[0]["html"]


def test_it_skips_and_counts_customers_without_a_usable_or_wanted_address(fake_resend):
    good = make_customer(email="good@example.com")
    no_email = make_customer(email="")
    invalid = make_customer(email="not an address", lms_lead_id="INV-1")
    unsubscribed = make_customer(email="Gone@Example.com")
    Suppression.objects.create(email="gone@example.com", reason="unsubscribed")
    automation = make_sending_automation([good, no_email, invalid, unsubscribed])
    run = run_automation(automation.pk, now=NOW).run
    assert run.status == Run.Status.DONE
    assert (run.members, run.accepted, run.skipped_no_email) == (4, 1, 1)
    assert (run.skipped_invalid_email, run.skipped_unsubscribed) == (1, 1)
    assert deliveries(run)["not an address"] == ("skipped", "invalid_email")
    assert fake_resend.accepted_by_recipient() == {"good@example.com": 1}


def test_once_per_customer_skips_customers_ever_accepted_for_this_automation(fake_resend):
    first = make_recipients(2)
    automation = make_sending_automation(first, send_policy=SendPolicy.ONCE_PER_CUSTOMER)
    run_automation(automation.pk, now=NOW, scheduled=False)
    newcomer = make_recipients(1)[0]
    CustomerSegmentCustomer.objects.create(
        customer_segment=automation.customer_segment, customer=newcomer
    )
    second = run_automation(automation.pk, now=NOW, scheduled=False).run
    assert (second.members, second.accepted, second.skipped_already_sent) == (3, 1, 2)
    assert second.status == Run.Status.DONE
    assert fake_resend.accepted_by_recipient()[newcomer.email] == 1


def test_every_run_sends_again_each_run(fake_resend):
    automation = make_sending_automation(make_recipients(2))
    run_automation(automation.pk, now=NOW, scheduled=False)
    run_automation(automation.pk, now=NOW, scheduled=False)
    assert set(fake_resend.accepted_by_recipient().values()) == {2}


# -- Batches and the outbox ------------------------------------------------------------------


def test_250_recipients_go_in_three_calls_under_stored_keys(fake_resend):
    automation = make_sending_automation(make_recipients(250))
    run = run_automation(automation.pk, now=NOW).run
    calls = [c for c in fake_resend.calls if c.path == "/emails/batch"]
    assert [len(c.body) for c in calls] == [100, 100, 50]
    keys = list(run.batches.order_by("number").values_list("idempotency_key", flat=True))
    assert [c.headers["idempotency-key"] for c in calls] == keys
    assert len(set(keys)) == 3 and all(f"run-{run.pk}-" in key for key in keys)
    assert run.accepted == 250


def test_a_run_that_died_part_way_is_resumed_with_the_same_keys_and_nobody_twice(fake_resend):
    automation = make_sending_automation(make_recipients(250))

    def die_after_the_first_batch(run):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_automation(automation.pk, now=NOW, progress=die_after_the_first_batch)
    run = automation.runs.get()
    assert (run.status, run.accepted) == (Run.Status.RUNNING, 100)
    keys = dict(run.batches.values_list("number", "idempotency_key"))

    later = NOW + timedelta(days=1)  # another slot: resuming comes before anything new
    outcome = run_automation(automation.pk, now=later)
    assert outcome.run.pk == run.pk and outcome.exit_code == 0
    assert automation.runs.count() == 1
    assert dict(run.batches.values_list("number", "idempotency_key")) == keys
    counts = fake_resend.accepted_by_recipient()
    assert len(counts) == 250 and set(counts.values()) == {1}


def test_a_batch_sent_but_not_recorded_is_replayed_not_delivered_twice(fake_resend, monkeypatch):
    automation = make_sending_automation(make_recipients(150))
    real_record = sending._record

    def crash_recording_the_second_batch(run, batch, *args):
        if batch.number == 2:
            raise KeyboardInterrupt
        real_record(run, batch, *args)

    monkeypatch.setattr(sending, "_record", crash_recording_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run_automation(automation.pk, now=NOW)
    monkeypatch.setattr(sending, "_record", real_record)
    run = run_automation(automation.pk, now=NOW).run
    assert run.accepted == 150 and run.status == Run.Status.DONE
    assert len(fake_resend.emails) == 150
    second_batch_calls = [
        c for c in fake_resend.calls if c.headers["idempotency-key"].endswith("-2")
    ]
    assert len(second_batch_calls) == 2  # the replay answered the first call's ids


def test_storms_of_429s_and_500s_end_with_everyone_accepted_exactly_once(fake_resend):
    automation = make_sending_automation(make_recipients(300))
    fake_resend.respond_next(429, times=3, retry_after=0.05)
    fake_resend.failure_rate = 0.4
    outcome = run_automation(automation.pk, now=NOW)
    assert outcome.exit_code == 0
    counts = fake_resend.accepted_by_recipient()
    assert len(counts) == 300 and set(counts.values()) == {1}
    assert {c.status for c in fake_resend.calls} >= {429, 500, 200}
    assert sum(outcome.run.deliveries.values_list("attempts", flat=True)) > 300


def test_addresses_resend_refuses_fail_alone_and_the_run_exits_non_zero(fake_resend):
    customers = make_recipients(3)
    fake_resend.reject = {customers[1].email}
    outcome = run_automation(make_sending_automation(customers).pk, now=NOW)
    run = outcome.run
    assert (outcome.exit_code, run.status, run.accepted, run.failed) == (1, "failed", 2, 1)
    failed = run.deliveries.get(status=Delivery.Status.FAILED)
    assert failed.email == customers[1].email and "Invalid `to` field" in failed.last_error
    assert "1 of 3 emails failed" in run.error


def test_a_batch_that_keeps_failing_fails_its_emails_and_the_run(fake_resend, monkeypatch):
    monkeypatch.setattr(sending, "RETRY_POLICY", RetryPolicy(max_attempts=2, base_delay=0.001))
    fake_resend.respond_next(503, times=2)
    outcome = run_automation(make_sending_automation(make_recipients(2)).pk, now=NOW)
    assert (outcome.exit_code, outcome.run.failed) == (1, 2)
    assert outcome.run.batches.get().status == Batch.Status.FAILED
    assert "Gave up after 2 attempts" in outcome.run.deliveries.first().last_error


def test_a_revoked_key_stops_the_run(settings, fake_resend):
    automation = make_sending_automation(make_recipients(150))
    settings.RESEND_API_KEY = "re_revoked"
    outcome = run_automation(automation.pk, now=NOW)
    assert outcome.exit_code == 1 and "Resend refused the API key" in outcome.message
    assert outcome.run.status == Run.Status.FAILED
    assert len(fake_resend.calls) == 1  # the second batch was not tried


def test_a_batch_first_sent_a_day_ago_is_held_for_an_operator_not_resent(fake_resend, monkeypatch):
    automation = make_sending_automation(make_recipients(2))

    def die_in_the_call(*args, **kwargs):
        raise KeyboardInterrupt

    real_send = sending.send_batch_reliably
    monkeypatch.setattr(sending, "send_batch_reliably", die_in_the_call)
    with pytest.raises(KeyboardInterrupt):
        run_automation(automation.pk, now=NOW)
    monkeypatch.setattr(sending, "send_batch_reliably", real_send)
    Batch.objects.update(first_sent_at=datetime.now(UTC) - timedelta(hours=25))
    outcome = run_automation(automation.pk, now=NOW)
    assert outcome.exit_code == 1
    assert outcome.run.batches.get().status == Batch.Status.HELD
    assert "Check Resend's logs" in outcome.run.deliveries.first().last_error
    assert fake_resend.calls == []


# -- Slots and dry runs ----------------------------------------------------------------------


def test_a_scheduled_run_belongs_to_its_slot_and_a_second_invocation_does_nothing(fake_resend):
    automation = make_sending_automation(make_recipients(1), cron="0 9 * * *")
    first = run_automation(automation.pk, now=NOW).run
    again = run_automation(automation.pk, now=NOW + timedelta(minutes=5))
    assert first.slot == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert again.exit_code == 0 and "already exists" in again.message
    assert again.run.pk == first.pk
    assert len(fake_resend.emails) == 1
    run_automation(automation.pk, now=NOW + timedelta(days=1))
    assert automation.runs.count() == 2


def test_now_starts_an_unscheduled_run_every_time():
    automation = make_sending_automation(make_recipients(1))
    run_automation(automation.pk, now=NOW, scheduled=False)
    run_automation(automation.pk, now=NOW, scheduled=False)
    assert list(automation.runs.values_list("slot", flat=True)) == [None, None]


def test_a_dry_run_counts_and_renders_but_sends_and_records_nothing(fake_resend):
    customers = [*make_recipients(2), make_customer(email="")]
    outcome = run_automation(make_sending_automation(customers).pk, now=NOW, dry_run=True)
    assert outcome.counts["members"] == 3 and outcome.counts["to_send"] == 2
    assert outcome.sample.subject == f"Hello {customers[0].first_name}"
    assert "2 would be sent" in outcome.message
    assert Run.objects.count() == 0 and fake_resend.calls == []


def test_a_template_that_does_not_compile_fails_the_run_in_words(fake_resend):
    template = make_email_template(subject="Hi {% if %}")  # saved around the form's checks
    automation = make_sending_automation(make_recipients(1), template=template)
    outcome = run_automation(automation.pk, now=NOW)
    assert outcome.exit_code == 1 and outcome.message.startswith("The template does not compile")
    assert outcome.run.status == Run.Status.FAILED and fake_resend.calls == []
    with pytest.raises(Refused, match="The template does not compile"):
        run_automation(automation.pk, now=NOW, dry_run=True)
