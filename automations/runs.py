"""Running an automation: refuse, claim, write the outbox, send, finish.

`run_automation` is the one workflow behind `manage.py run_automation` and the
"Run now" button. In order:

1. A PostgreSQL advisory lock on the automation (held by this database
   session, so it holds across machines and is released when the process
   dies): a second invocation exits at once with "already running".
2. An unfinished run (its process died) is resumed before anything new.
3. Refusals (inactive, WhatsApp, mailer not configured) are recorded as failed
   runs; a scheduled run belongs to its cron slot, and a slot that already has
   a run does nothing (so the same crontab may run on several hosts).
4. The outbox: one `Delivery` per segment member, classified (skip reasons)
   and numbered into batches of 100 by one INSERT … SELECT, with the `Batch`
   rows and their idempotency keys, in one transaction, before any call.
5. `sending.send_run` sends the pending batches and finishes the run. When
   the database connection drops mid-run, `regain_database` reconnects (with
   backoff, for at most `RUN_DATABASE_RETRY_SECONDS`) and takes the lock
   again, and the run goes on from what was recorded; past the bound it stops
   unfinished (`DatabaseLost`, exit 69) for the next invocation to resume.
"""

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count

from audit.recording import Action, record
from automations.models import Automation, Batch, Delivery, Run, SendPolicy
from automations.scheduling import schedule_slot
from segments.evaluation import SegmentError, segment_customers
from templates_app import mailer
from templates_app.rendering import RenderedMessage

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 6_006  # pg_try_advisory_lock(namespace, automation id)
BATCH_SIZE = mailer.BATCH_LIMIT
# An address Resend will take: something@something.tld, no spaces or angle brackets.
VALID_EMAIL = r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$"


class Refused(Exception):
    """The run cannot start (or go on); the message is one line for the operator."""

    exit_code = 1


class AlreadyRunning(Refused):
    exit_code = 75  # EX_TEMPFAIL, as scripts/run-automation.sh answers a held flock


class DatabaseLost(Refused):
    """The database stayed unreachable past the bound; the run is left unfinished."""

    exit_code = 69  # EX_UNAVAILABLE: the next invocation resumes the run


@dataclass
class Outcome:
    message: str
    run: Run | None = None
    exit_code: int = 0
    sample: RenderedMessage | None = None
    counts: dict | None = None


def run_automation(
    automation_id: int,
    *,
    now: datetime,
    scheduled: bool = True,
    dry_run: bool = False,
    force: bool = False,
    progress: Callable[[Run], None] | None = None,
) -> Outcome:
    """Run (or resume) the automation; raise `Refused` when it cannot start."""
    from automations import sending  # sending imports this module's helpers

    automation = _load(automation_id)
    if dry_run:
        return sending.dry_run(automation, now=now, force=force)
    with automation_lock(automation.pk) as lock:
        run = unfinished_run(automation)
        if run is None:
            run, outcome = start_run(automation, now=now, scheduled=scheduled, force=force)
            if outcome:
                return outcome
        else:
            refuse_if_unconfigured(run)
            details = {"summary": f"resumed run {run.pk}", "run": run.pk, "resumed": True}
            record(automation, action=Action.RUN, now=now, details=details)
        return sending.send_run(
            run, progress=progress, reconnect=lambda error: regain_database(lock, run.pk, error)
        )


def _load(automation_id: int) -> Automation:
    automation = (
        Automation.objects.select_related("customer_segment", "message_template")
        .filter(pk=automation_id)
        .first()
    )
    if automation is None:
        raise Refused(f"There is no automation with id {automation_id}.")
    return automation


class AutomationLock:
    """`pg_try_advisory_lock(6006, id)` on this process's database session.

    The lock lives and dies with the session: a lost connection loses it, and
    `take` after reconnecting asks for it again (`held` says whether we have it)."""

    def __init__(self, automation_id: int):
        self.automation_id = automation_id
        self.held = False

    def take(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, self.automation_id]
            )
            self.held = cursor.fetchone()[0]
        return self.held

    def still_held(self) -> bool:
        """Whether this session holds the lock (False when the session is gone).

        Not "is the connection usable": Django quietly opens a new connection
        when a transaction's rollback fails, and the new session holds nothing."""
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND classid = %s AND objid = %s AND objsubid = 2 "
                    "AND pid = pg_backend_pid() AND granted)",
                    [LOCK_NAMESPACE, self.automation_id],
                )
                return cursor.fetchone()[0]
        except DatabaseError:
            return False

    def release(self) -> None:
        if not self.held or connection.connection is None:
            return  # never taken, or gone with its session
        self.held = False
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, self.automation_id]
                )
        except DatabaseError:
            pass  # the session died: so did its lock


@contextmanager
def automation_lock(automation_id: int) -> Iterator[AutomationLock]:
    lock = AutomationLock(automation_id)
    if not lock.take():
        raise AlreadyRunning(f"Automation {automation_id} is already running.")
    try:
        yield lock
    finally:
        lock.release()


RECONNECT_FIRST_DELAY = 0.5  # seconds; doubles after each failed attempt
RECONNECT_MAX_DELAY = 5.0  # so a run is back at most ~5 s after its database


def regain_database(
    lock: AutomationLock,
    run_id: int,
    error: Exception,
    *,
    limit: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """After a database error: False if this session still holds the lock (the
    error was something else); otherwise reconnect with backoff, take the lock
    again and return True.

    Raises `DatabaseLost` when the database stays away longer than `limit`
    (`RUN_DATABASE_RETRY_SECONDS`), and `AlreadyRunning` when another process
    took the automation's lock while this one was disconnected."""
    if lock.still_held():
        return False
    limit = settings.RUN_DATABASE_RETRY_SECONDS if limit is None else limit
    lock.held = False  # it went with the session
    started, delay, attempt = clock(), RECONNECT_FIRST_DELAY, 0
    log.warning(
        "Run %s lost its database connection (%s); reconnecting for up to %g s.",
        run_id,
        one_line(first_cause(error)),
        limit,
    )
    while True:
        attempt += 1
        try:
            connection.close()
            connection.ensure_connection()
            taken = lock.take()
            break
        except DatabaseError as again:
            error = again
        waited = clock() - started
        if waited >= limit:
            connection.close()
            raise DatabaseLost(
                f"Run {run_id} stopped: the database was unreachable for {waited:.0f} s "
                f"({attempt} attempts; last error: {one_line(error)}). The run is unfinished: "
                f"the next run_automation {lock.automation_id} resumes it."
            )
        jittered = delay * (0.5 + random.random() / 2)
        pause = min(jittered, limit - waited)  # the last attempt falls at the bound
        log.warning(
            "Run %s: database still unreachable after %.1f s (attempt %d: %s); next try in %.1f s.",
            run_id,
            waited,
            attempt,
            one_line(error),
            pause,
        )
        sleep(pause)
        delay = min(delay * 2, RECONNECT_MAX_DELAY)
    if not taken:
        raise AlreadyRunning(
            f"Automation {lock.automation_id} was taken over by another process while the "
            f"database was away; run {run_id} goes on there."
        )
    log.warning(
        "Run %s: database back after %.1f s (%d attempts), lock on automation %s taken again; "
        "resuming from what was recorded.",
        run_id,
        clock() - started,
        attempt,
        lock.automation_id,
    )
    return True


def first_cause(error: BaseException) -> BaseException:
    """The database error that started it: Django's own reconnect attempt inside a failed
    rollback raises a second error whose context is the first."""
    while isinstance(error.__context__, DatabaseError | psycopg.Error):
        error = error.__context__
    return error


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def unfinished_run(automation: Automation) -> Run | None:
    return automation.runs.filter(status__in=Run.UNFINISHED).order_by("started_at", "id").first()


def refusal(automation: Automation, *, force: bool) -> str:
    """Why the automation must not run now ("" when it may)."""
    if not automation.is_active and not force:
        return f"Automation {automation.pk} is inactive (use --force to run it anyway)."
    if automation.message_template.type == "whatsapp":
        return "WhatsApp sending is not implemented yet."
    return mailer.configuration_problem()


def refuse_if_unconfigured(run: Run) -> None:
    problem = mailer.configuration_problem()
    if problem:
        raise Refused(f"Run {run.pk} is unfinished. {problem}")


def start_run(
    automation: Automation, *, now: datetime, scheduled: bool, force: bool
) -> tuple[Run | None, Outcome | None]:
    """A new run with its outbox, or an `Outcome` saying why there is none."""
    problem = refusal(automation, force=force)
    if problem:
        _record_failure(automation, problem, now=now)
        raise Refused(problem)
    slot = schedule_slot(automation.cron, now=now) if scheduled else None
    run = _create_run(automation, slot=slot, now=now)
    if run is None:
        return None, _slot_taken(automation, slot)
    try:
        write_outbox(run, now=now)
    except SegmentError as error:
        message = f"The segment could not be evaluated: {error}"
        Run.objects.filter(pk=run.pk).update(
            status=Run.Status.FAILED, error=message, finished_at=now
        )
        raise Refused(message) from None
    return run, None


def _record_failure(automation: Automation, message: str, *, now: datetime) -> Run:
    return Run.objects.create(
        automation=automation,
        status=Run.Status.FAILED,
        started_at=now,
        finished_at=now,
        error=message,
        host=socket.gethostname(),
        pid=os.getpid(),
    )


def _create_run(automation: Automation, *, slot: datetime | None, now: datetime) -> Run | None:
    template = automation.message_template
    try:
        with transaction.atomic():
            run = Run.objects.create(
                automation=automation,
                slot=slot,
                started_at=now,
                host=socket.gethostname(),
                pid=os.getpid(),
                template_type=template.type,
                subject=template.subject,
                message=template.message,
            )
            record(automation, action=Action.RUN, now=now, details=run_details(run))
            return run
    except IntegrityError:  # another host took this slot first
        return None


def run_details(run: Run) -> dict:
    """The audit trail's note of a started run: which, and for which schedule slot."""
    when = f"the {run.slot:%Y-%m-%d %H:%M %Z} slot" if run.slot else "unscheduled"
    slot = run.slot.isoformat() if run.slot else None
    return {"summary": f"run {run.pk}, {when}", "run": run.pk, "slot": slot}


def _slot_taken(automation: Automation, slot: datetime) -> Outcome:
    run = automation.runs.get(slot=slot)
    return Outcome(
        f"The {slot:%Y-%m-%d %H:%M %Z} run of automation {automation.pk} already exists "
        f"(run {run.pk}, {run.get_status_display().lower()}); nothing to do.",
        run=run,
    )


# -- The outbox -------------------------------------------------------------------------------

CLASSIFIED = """
    WITH members(customer_id, email) AS ({members}),
    classified AS (
        SELECT customer_id, coalesce(btrim(email), '') AS email,
            CASE
                WHEN coalesce(btrim(email), '') = '' THEN 'no_email'
                WHEN btrim(email) !~ %s THEN 'invalid_email'
                WHEN EXISTS (SELECT 1 FROM email_suppressions s
                             WHERE s.email IN (lower(btrim(members.email)),
                                'sha256:' || encode(sha256(convert_to(
                                    lower(btrim(members.email)), 'UTF8')), 'hex')))
                    THEN 'unsubscribed'
                WHEN %s AND EXISTS (
                    SELECT 1 FROM automation_deliveries d
                    JOIN automation_runs r ON r.id = d.run_id
                    WHERE r.automation_id = %s AND d.customer_id = members.customer_id
                      AND d.status = 'accepted') THEN 'already_sent'
                ELSE ''
            END AS skip_reason
        FROM members
    )
"""

INSERT_DELIVERIES = """
    INSERT INTO automation_deliveries
        (run_id, customer_id, email, status, skip_reason, batch_number,
         resend_id, attempts, last_error)
    SELECT %s, customer_id, email,
        CASE WHEN skip_reason = '' THEN 'pending' ELSE 'skipped' END,
        skip_reason,
        CASE WHEN skip_reason = '' THEN
            (row_number() OVER (PARTITION BY skip_reason = '' ORDER BY customer_id) - 1)
            / %s + 1
        END,
        '', 0, ''
    FROM classified
"""

COUNT_CLASSES = "SELECT skip_reason, count(*) FROM classified GROUP BY skip_reason"

SKIP_COUNTS = {
    "no_email": "skipped_no_email",
    "invalid_email": "skipped_invalid_email",
    "unsubscribed": "skipped_unsubscribed",
    "already_sent": "skipped_already_sent",
    "": "to_send",
}


def classified_sql(automation: Automation, *, now: datetime) -> tuple[str, list]:
    """The CTE classifying every segment member; raises `SegmentError`."""
    members = segment_customers(automation.customer_segment, now=now).order_by()
    sql, params = members.values_list("pk", "email").query.sql_with_params()
    once = automation.send_policy == SendPolicy.ONCE_PER_CUSTOMER
    return CLASSIFIED.format(members=sql), [*params, VALID_EMAIL, once, automation.pk]


def classify_counts(automation: Automation, *, now: datetime) -> dict[str, int]:
    """Run counters (`members`, `skipped_…`, `to_send`) without writing anything."""
    sql, params = classified_sql(automation, now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql + COUNT_CLASSES, params)
        return counts_of(cursor.fetchall())


def write_outbox(run: Run, *, now: datetime) -> None:
    """Every member's delivery and every batch, fixed in one transaction."""
    sql, params = classified_sql(run.automation, now=now)
    token = uuid.uuid4().hex[:12]  # keys stay unique even if run ids restart (a new database)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql + INSERT_DELIVERIES, [*params, run.pk, BATCH_SIZE])
        counts = _outbox_counts(run)
        batches = -(-counts["to_send"] // BATCH_SIZE)
        Batch.objects.bulk_create(
            Batch(run=run, number=n, idempotency_key=f"mos-run-{run.pk}-{token}-batch-{n}")
            for n in range(1, batches + 1)
        )
        Run.objects.filter(pk=run.pk).update(outbox_ready=True, **counts)
    run.refresh_from_db()


def _outbox_counts(run: Run) -> dict[str, int]:
    return counts_of(run.deliveries.values_list("skip_reason").annotate(n=Count("id")).order_by())


def counts_of(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Run counters from (skip reason, number) rows; "" is the reason of those to send."""
    rows = list(rows)
    counts = {field: 0 for field in SKIP_COUNTS.values()}
    counts.update({SKIP_COUNTS[reason]: n for reason, n in rows})
    counts["members"] = sum(n for _, n in rows)
    return counts


def pending_batches(run: Run) -> list[Batch]:
    return list(run.batches.filter(status=Batch.Status.PENDING).order_by("number"))


def batch_deliveries(run: Run, number: int) -> list[tuple[int, int, str]]:
    """(delivery id, customer id, address) of the batch's unsent deliveries, in send order.

    The address is the one fixed when the outbox was written, so a resumed run
    sends the very same emails."""
    deliveries = run.deliveries.filter(batch_number=number, status=Delivery.Status.PENDING)
    return list(deliveries.order_by("id").values_list("id", "customer_id", "email"))
