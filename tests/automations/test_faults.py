"""Faults during a run: a flaky Resend, and the database lost mid-run (docs/sending.md, Faults).

The database faults are real: the run's own backend is terminated with
`pg_terminate_backend` from another connection while the fake Resend is slowed,
and "the database stays down" is `ALTER DATABASE … ALLOW_CONNECTIONS false`
(new connections refused, superuser or not) until the test lets it back.
"""

import logging
import threading
import time

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from psycopg import sql

from automations import runs, sending
from automations.models import Batch, Run
from automations.runs import AlreadyRunning, DatabaseLost, run_automation
from automations.sending import Pacer, RetryPolicy, send_batch_reliably
from templates_app.mailer import Email
from tests.automations.sending_factories import make_recipients, make_sending_automation
from tests.factories import NOW
from tests.fake_resend import FAILURES, REALISTIC_MIX

pytestmark = pytest.mark.django_db(transaction=True)
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture(autouse=True)
def ready_to_send(fake_resend, settings, monkeypatch):
    settings.RESEND_REQUESTS_PER_SECOND = 10_000
    monkeypatch.setattr(sending, "RETRY_POLICY", FAST)
    monkeypatch.setattr(runs, "RECONNECT_FIRST_DELAY", 0.05)
    return fake_resend


def other_connection(dbname: str | None = None) -> psycopg.Connection:
    """A connection of our own (to the test database by default), beside the run's."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=dbname or db["NAME"],
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        autocommit=True,
    )


def run_backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


class Saboteur(threading.Thread):
    """Once the fake has accepted `after` emails: terminate the run's backend (and,
    with `keep_out`, refuse new connections to the database until `let_back`)."""

    def __init__(self, fake, *, pid: int, after: int, keep_out: bool = False):
        super().__init__(daemon=True)
        self.fake, self.pid, self.after, self.keep_out = fake, pid, after, keep_out
        self.name_of_db = connection.settings_dict["NAME"]
        self.terminated = False
        self.accepted_then = 0
        self.at = 0.0  # time.monotonic() of the termination

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while len(self.fake.accepted) < self.after and time.monotonic() < deadline:
            time.sleep(0.005)
        # From another database: PostgreSQL refuses ALLOW_CONNECTIONS false from a session
        # of the database itself, and after it no new session of it can start.
        with other_connection("postgres") as conn:
            if self.keep_out:
                conn.execute(self._allow(False))
            self.accepted_then = len(self.fake.accepted)
            self.terminated = conn.execute(
                "SELECT pg_terminate_backend(%s)", [self.pid]
            ).fetchone()[0]
            self.at = time.monotonic()

    def let_back(self) -> None:
        with other_connection("postgres") as conn:
            conn.execute(self._allow(True))

    def _allow(self, allowed: bool) -> sql.Composed:
        return sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(self.name_of_db), sql.SQL("true" if allowed else "false")
        )


def accepted_once(fake, customers) -> bool:
    counts = fake.accepted_by_recipient()
    return set(counts) == {c.email for c in customers} and set(counts.values()) == {1}


# -- A flaky Resend ---------------------------------------------------------------------------


def test_a_run_through_resend_failing_30_percent_in_every_way_accepts_everyone_once(
    fake_resend, settings
):
    settings.RESEND_TIMEOUT_SECONDS = 0.3
    fake_resend.failure_rate = 0.3
    fake_resend.failure_mix = dict(REALISTIC_MIX)
    fake_resend.retry_after_seconds = 0.05
    fake_resend.timeout_seconds = 0.5
    customers = make_recipients(1500)
    automation = make_sending_automation(customers)

    outcome = run_automation(automation.pk, now=NOW, scheduled=False)

    assert outcome.exit_code == 0, outcome.message
    assert f"{len(customers)} accepted, 0 failed" in outcome.message
    assert accepted_once(fake_resend, customers)
    assert sum(fake_resend.injected.values()) >= 3
    # Every call the run recorded: one per failed attempt plus the accepted one.
    attempts = sum(Batch.objects.filter(run=outcome.run).values_list("attempts", flat=True))
    assert attempts == fake_resend.requests


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_each_kind_of_failure_is_retried_and_the_batch_accepted_once(fake_resend, settings, kind):
    settings.RESEND_TIMEOUT_SECONDS = 0.3
    fake_resend.retry_after_seconds = 0.05
    fake_resend.timeout_seconds = 0.5
    fake_resend.fail_next(kind)
    batch = [Email(f"p{i}@example.com", "Hi", "<p>Hi</p>", "Hi") for i in range(3)]

    outcome = send_batch_reliably(batch, idempotency_key="k", pacer=Pacer(1000), policy=FAST)

    assert outcome.attempts == 2 and len(outcome.result.ids) == 3
    assert fake_resend.injected == {kind: 1}
    assert set(fake_resend.accepted_by_recipient().values()) == {1}
    # Accepted, then the answer lost: the retry under the same key is a replay.
    assert fake_resend.replays == (1 if kind.endswith("_after_accept") else 0)
    assert sorted(outcome.result.ids.values()) == sorted(e["id"] for e in fake_resend.emails)


def test_the_same_seed_fails_the_same_calls(fake_resend, settings):
    from tests.fake_resend import FakeResend

    def kinds(seed: int) -> list[str]:
        fake = FakeResend(failure_rate=0.3, failure_mix=dict(REALISTIC_MIX), seed=seed)
        return [fake._injected_failure() for _ in range(200)]

    assert kinds(7) == kinds(7)
    assert kinds(7) != kinds(8)
    assert 40 <= sum(1 for kind in kinds(7) if kind) <= 80  # about 30% of 200


# -- The database lost mid-run ----------------------------------------------------------------


def test_a_run_whose_database_connection_is_killed_reconnects_and_sends_everyone_once(
    fake_resend, caplog
):
    customers = make_recipients(1000)
    automation = make_sending_automation(customers)
    fake_resend.hang_seconds = 0.1  # ten calls of 0.1 s or more: the kill lands mid-run
    saboteur = Saboteur(fake_resend, pid=run_backend_pid(), after=300)
    saboteur.start()

    with caplog.at_level(logging.WARNING, logger="automations.runs"):
        outcome = run_automation(automation.pk, now=NOW, scheduled=False)
    saboteur.join(timeout=10)

    assert saboteur.terminated and saboteur.accepted_then < 1000
    assert outcome.exit_code == 0, outcome.message
    assert outcome.message.startswith(f"Run {outcome.run.pk} done: 1000 members, 1000 accepted")
    assert accepted_once(fake_resend, customers)
    run = Run.objects.get(pk=outcome.run.pk)
    assert (run.status, run.accepted, run.failed) == (Run.Status.DONE, 1000, 0)
    assert not run.batches.exclude(status=Batch.Status.SENT).exists()
    log = caplog.text
    assert f"Run {run.pk} lost its database connection" in log
    assert f"lock on automation {automation.pk} taken again" in log
    # The lock is held again: another invocation would be turned away until the run ends.
    assert run_backend_pid() != saboteur.pid


def test_a_database_away_longer_than_the_bound_stops_the_run_unfinished_and_a_resume_ends_it(
    fake_resend, settings, caplog
):
    settings.RUN_DATABASE_RETRY_SECONDS = 1.0
    customers = make_recipients(1000)
    automation = make_sending_automation(customers)
    fake_resend.hang_seconds = 0.1
    saboteur = Saboteur(fake_resend, pid=run_backend_pid(), after=300, keep_out=True)
    saboteur.start()
    try:
        with caplog.at_level(logging.WARNING, logger="automations.runs"):
            with pytest.raises(CommandError) as stopped:
                call_command("run_automation", automation.pk, "--now")
        ended = time.monotonic()
    finally:
        saboteur.join(timeout=10)
        saboteur.let_back()

    assert stopped.value.returncode == DatabaseLost.exit_code == 69
    message = str(stopped.value)
    assert "the database was unreachable for" in message
    assert f"The run is unfinished: the next run_automation {automation.pk} resumes it." in message
    assert "database still unreachable" in caplog.text
    assert 1.0 <= ended - saboteur.at < 10  # it tried for the whole bound, then gave up
    run = Run.objects.get(automation=automation)
    assert run.status == Run.Status.RUNNING and run.accepted < 1000

    fake_resend.hang_seconds = 0
    outcome = run_automation(automation.pk, now=NOW)  # any invocation resumes it
    assert outcome.exit_code == 0, outcome.message
    assert outcome.run.pk == run.pk
    assert f"{len(customers)} accepted, 0 failed" in outcome.message
    assert accepted_once(fake_resend, customers)
    assert Run.objects.filter(automation=automation).count() == 1


def test_an_outcome_offered_twice_for_one_batch_is_recorded_once(fake_resend):
    """After a lost connection the run cannot know whether its last commit went
    through; recording the same batch again must change nothing."""
    customers = make_recipients(3)
    automation = make_sending_automation(customers)
    outcome = run_automation(automation.pk, now=NOW, scheduled=False)
    run = outcome.run
    batch = run.batches.get()
    ids = list(run.deliveries.values_list("id", flat=True))

    sending._record(run, batch, Batch.Status.SENT, [(ids[0], "again")], {}, 1, NOW)

    run.refresh_from_db()
    batch.refresh_from_db()
    assert (run.accepted, run.failed, batch.attempts) == (3, 0, 1)
    assert not run.deliveries.filter(resend_id="again").exists()


def test_another_process_that_took_the_lock_while_the_run_was_away_keeps_it(fake_resend):
    automation = make_sending_automation(make_recipients(1))
    lock = runs.AutomationLock(automation.pk)
    with other_connection() as elsewhere:  # e.g. an operator resumed the run on another host
        elsewhere.execute("SELECT pg_advisory_lock(%s, %s)", [runs.LOCK_NAMESPACE, automation.pk])
        with pytest.raises(AlreadyRunning, match="taken over by another process") as stopped:
            runs.regain_database(lock, 7, OperationalError("server closed the connection"))
    assert stopped.value.exit_code == 75
    assert not lock.held


def test_a_database_error_while_the_session_still_holds_the_lock_is_not_a_lost_connection(
    fake_resend,
):
    automation = make_sending_automation(make_recipients(1))
    with runs.automation_lock(automation.pk) as lock:
        assert runs.regain_database(lock, 7, OperationalError("canceling statement")) is False
        assert lock.held and lock.still_held()
