"""Sending a batch through Resend at a bounded pace, retrying what can be retried.

The policy (the mailer only reports what happened):

- never more calls a second than `RESEND_REQUESTS_PER_SECOND`: `Pacer` spaces
  the *start* of calls at least `1 / rate` apart on the monotonic clock;
- 429 waits for `Retry-After` (and holds the pacer that long), 5xx, timeouts
  and an unreachable server back off exponentially with full jitter; both
  are bounded by `RetryPolicy.max_attempts`;
- validation errors come back per email (permissive batch validation), so an
  invalid address fails alone; a 4xx about the whole batch fails every email
  in it;
- 401/403 (a wrong or revoked key) stops the run: no later batch can succeed.

Every retry reuses the batch's idempotency key with the identical emails, so
Resend delivers a batch at most once however often it is retried.
"""

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from automations import runs
from automations.models import Automation, Batch, Run
from automations.unsubscribe import list_unsubscribe_headers, unsubscribe_url, with_footer
from customers.personalisation import customer_context, customer_data_many
from segments.evaluation import SegmentError, segment_customers
from templates_app import mailer
from templates_app.mailer import BatchResult, Email, SendError
from templates_app.rendering import (
    CompiledTemplate,
    RenderError,
    TemplateSyntaxError,
    compile_template,
    normalise_newlines,
    render_compiled,
)


class RunStopped(Exception):
    """Resend refused the API key: nothing more can be sent in this run."""


class BatchFailed(Exception):
    """The batch could not be sent after the allowed attempts (or must not be retried)."""

    def __init__(self, message: str, *, attempts: int):
        super().__init__(message)
        self.message = message
        self.attempts = attempts


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5  # seconds before the first retry of a 5xx / timeout
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is waited for at most this long


@dataclass(frozen=True)
class BatchOutcome:
    result: BatchResult
    attempts: int


class Pacer:
    """Start calls at least `1 / rate` seconds apart; `hold` pushes the next start back."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0

    def wait(self) -> None:
        now = self._clock()
        if now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self.interval

    def hold(self, seconds: float) -> None:
        self._next_at = max(self._next_at, self._clock() + seconds)


def send_batch_reliably(
    emails: Sequence[Email],
    *,
    idempotency_key: str,
    pacer: Pacer,
    policy: RetryPolicy = RetryPolicy(),
    jitter: Callable[[], float] = random.random,
) -> BatchOutcome:
    """Send one batch, retrying per the policy; raise `BatchFailed` or `RunStopped`."""
    for attempt in range(1, policy.max_attempts + 1):
        pacer.wait()
        try:
            result = mailer.send_batch_permissive(emails, idempotency_key=idempotency_key)
        except SendError as error:
            if _whole_batch_invalid(error):
                message = error.message
                return BatchOutcome(
                    BatchResult(ids={}, errors=dict.fromkeys(range(len(emails)), message)), attempt
                )
            _give_up_unless_retriable(error, attempt=attempt, policy=policy)
            pacer.hold(_delay(error, attempt=attempt, policy=policy, jitter=jitter))
            continue
        return BatchOutcome(result, attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _whole_batch_invalid(error: SendError) -> bool:
    return error.status in (400, 422)


def _give_up_unless_retriable(error: SendError, *, attempt: int, policy: RetryPolicy) -> None:
    if error.status in (401, 403):
        raise RunStopped(error.message)
    if not _retriable(error):
        raise BatchFailed(error.message, attempts=attempt)
    if attempt >= policy.max_attempts:
        raise BatchFailed(f"Gave up after {attempt} attempts: {error.message}", attempts=attempt)


def _retriable(error: SendError) -> bool:
    if error.status is None or error.status == 429 or error.status >= 500:
        return True
    # The same key still in flight (a timed-out call Resend is finishing): wait, ask again.
    return error.status == 409 and "concurrent" in error.message.lower()


def _delay(error: SendError, *, attempt: int, policy: RetryPolicy, jitter) -> float:
    if error.status == 429 and error.retry_after is not None:
        return min(error.retry_after, policy.max_retry_after)
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return ceiling * jitter()  # full jitter: many senders do not retry in step


# -- Sending a run's outbox -------------------------------------------------------------------

# Resend keeps an idempotency key 24 hours; past this age a batch is not resent
# automatically (Resend might deliver it twice) but held for an operator.
IDEMPOTENCY_SAFE_AGE = timedelta(hours=23)
RETRY_POLICY = RetryPolicy()
HELD_MESSAGE = (
    "Not resent: first sent at {at:%Y-%m-%d %H:%M %Z}, and Resend forgets idempotency keys "
    "after 24 hours. Check Resend's logs for these addresses before sending again."
)


@dataclass
class Prepared:
    """One batch, rendered and ready for its call (or already settled without one)."""

    batch: Batch
    emails: list[Email]
    senders: list[int]  # delivery ids, in the order of `emails`
    failures: dict[int, str]  # delivery id → why it was not sent
    status: str = Batch.Status.FAILED  # when there is nothing to send
    future: Future | None = None


def send_run(
    run: Run,
    *,
    progress: Callable[[Run], None] | None = None,
    clock: Callable[[], datetime] = timezone.now,
    reconnect: Callable[[Exception], bool] | None = None,
) -> "runs.Outcome":
    """Send every pending batch of `run`, then finish it.

    One call is in flight (on a worker thread, HTTP only) while this thread
    reads and renders the next batch and records the last one: the database
    stays on this thread's connection.

    After a database error `reconnect(error)` says whether the connection was
    lost (and the run's lock with it); if so it has got both back (or it
    raises), and sending goes on from what the database recorded: the call in
    flight is recorded unless it already was, nothing recorded is sent again,
    and a batch never recorded is sent again under its idempotency key.
    """
    pacer = Pacer(settings.RESEND_REQUESTS_PER_SECOND)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"run-{run.pk}") as caller:
        sender = _Sender(run, caller, pacer, clock=clock, progress=progress)
        reconnected = False
        while True:
            try:
                if reconnected:
                    run.refresh_from_db()  # what was recorded before the connection went
                    if run.status not in Run.UNFINISHED:  # another process finished it
                        return runs.Outcome(
                            f"{summary(run)} (finished by another process)", run=run
                        )
                return sender.send()
            except (OperationalError, InterfaceError) as error:
                if reconnect is None or not reconnect(error):
                    raise  # not a lost connection (or nobody to get it back)
                reconnected = True


class _Sender:
    """One run's sending; its state (the call in flight) outlives a lost connection."""

    def __init__(self, run: Run, caller: Executor, pacer: Pacer, *, clock, progress):
        self.run, self.caller, self.pacer = run, caller, pacer
        self.clock, self.progress = clock, progress
        self.in_flight: Prepared | None = None  # called, not yet recorded

    def send(self) -> "runs.Outcome":
        run, clock = self.run, self.clock
        if not run.outbox_ready:  # the process died while writing it: nothing was sent
            try:
                runs.write_outbox(run, now=run.started_at)
            except SegmentError as error:
                return _fail(run, f"The segment could not be evaluated: {error}", clock())
        try:
            compiled = compile_template(
                run.template_type, run.subject, normalise_newlines(run.message)
            )
        except TemplateSyntaxError as error:
            return _fail(run, f"The template does not compile: {error}", clock())
        try:
            if self.in_flight:  # called before the connection was lost
                self.settle()
            for batch in runs.pending_batches(run):
                ready = prepare_batch(run, batch, compiled=compiled, now=clock())
                if self.in_flight:
                    self.settle()
                self.in_flight = _start_call(ready, self.caller, self.pacer, now=clock())
            if self.in_flight:
                self.settle()
        except RunStopped as error:
            return _fail(run, f"Resend refused the API key: {error}", clock())
        return finish_run(run, now=clock())

    def settle(self) -> None:
        settle_batch(self.run, self.in_flight, clock=self.clock, progress=self.progress)
        self.in_flight = None


def prepare_batch(run: Run, batch: Batch, *, compiled: CompiledTemplate, now) -> Prepared:
    deliveries = runs.batch_deliveries(run, batch.number)
    if batch.first_sent_at and now - batch.first_sent_at > IDEMPOTENCY_SAFE_AGE:
        error = HELD_MESSAGE.format(at=batch.first_sent_at)
        failures = {pk: error for pk, _, _ in deliveries}
        return Prepared(batch, [], [], failures, status=Batch.Status.HELD)
    emails, senders, failures = _render(run, deliveries, compiled)
    return Prepared(batch, emails, senders, failures)


def _start_call(ready: Prepared, caller: Executor, pacer: Pacer, *, now) -> Prepared:
    if ready.emails:
        Batch.objects.filter(pk=ready.batch.pk, first_sent_at=None).update(first_sent_at=now)
        ready.future = caller.submit(
            send_batch_reliably,
            ready.emails,
            idempotency_key=ready.batch.idempotency_key,
            pacer=pacer,
            policy=RETRY_POLICY,
        )
    return ready


def settle_batch(run: Run, ready: Prepared, *, clock, progress=None) -> None:
    """Wait for the batch's call and record its outcome."""
    if ready.future is None:
        _record(run, ready.batch, ready.status, [], ready.failures, 0, clock())
    else:
        _record_call(run, ready, clock=clock)
    if progress:
        progress(run)


def _record_call(run: Run, ready: Prepared, *, clock) -> None:
    try:
        outcome = ready.future.result()
    except BatchFailed as error:
        failures = ready.failures | dict.fromkeys(ready.senders, error.message)
        return _record(run, ready.batch, Batch.Status.FAILED, [], failures, error.attempts, clock())
    ids, senders = outcome.result.ids, ready.senders
    accepted = [(senders[i], resend_id) for i, resend_id in ids.items()]
    failures = ready.failures | {senders[i]: msg for i, msg in outcome.result.errors.items()}
    _record(run, ready.batch, Batch.Status.SENT, accepted, failures, outcome.attempts, clock())


def _render(run: Run, deliveries: list[tuple[int, int, str]], compiled: CompiledTemplate):
    """(emails, the delivery ids they go to, {delivery id: render error})."""
    emails, senders, failures = [], [], {}
    tags = {"automation": str(run.automation_id), "run": str(run.pk)}
    customers = customer_data_many([customer_id for _, customer_id, _ in deliveries])
    needs_footer = "unsubscribe_url" not in compiled.variables
    for pk, customer_id, address in deliveries:
        url = unsubscribe_url(customer_id)
        try:
            message = render_compiled(
                compiled, {"customer": customers[customer_id], "unsubscribe_url": url}
            )
        except RenderError as error:
            failures[pk] = f"The template could not be rendered: {error}"
            continue
        if needs_footer:
            message = with_footer(message, url)
        headers = list_unsubscribe_headers(url)
        emails.append(
            Email(address, message.subject, message.html, message.text, headers=headers, tags=tags)
        )
        senders.append(pk)
    return emails, senders, failures


RECORD_ACCEPTED = """
    UPDATE automation_deliveries d
    SET status = 'accepted', resend_id = v.resend_id, attempts = d.attempts + %s,
        sent_at = %s, last_error = ''
    FROM unnest(%s::bigint[], %s::text[]) AS v(id, resend_id) WHERE d.id = v.id
"""
RECORD_FAILED = """
    UPDATE automation_deliveries d
    SET status = 'failed', attempts = d.attempts + %s, last_error = v.error
    FROM unnest(%s::bigint[], %s::text[]) AS v(id, error) WHERE d.id = v.id
"""


def _record(run, batch, status, accepted, failures, attempts, now) -> None:
    """One batch's outcome, its deliveries and the run's counters, together.

    Only a pending batch is recorded: after a lost connection the same outcome
    may be offered again when its first commit did go through."""
    with transaction.atomic(), connection.cursor() as cursor:
        recorded = Batch.objects.filter(pk=batch.pk, status=Batch.Status.PENDING).update(
            status=status,
            attempts=F("attempts") + attempts,
            last_error=next(iter(failures.values()), "") if status != Batch.Status.SENT else "",
        )
        if not recorded:
            return
        if accepted:
            ids, resend_ids = zip(*accepted, strict=True)
            cursor.execute(RECORD_ACCEPTED, [attempts, now, list(ids), list(resend_ids)])
        if failures:
            cursor.execute(RECORD_FAILED, [attempts, list(failures), list(failures.values())])
        Run.objects.filter(pk=run.pk).update(
            accepted=F("accepted") + len(accepted), failed=F("failed") + len(failures)
        )
    # Kept in step in memory too (this process holds the run's lock), for progress lines.
    run.accepted += len(accepted)
    run.failed += len(failures)


def finish_run(run: Run, *, now: datetime) -> "runs.Outcome":
    run.refresh_from_db()
    ok = run.failed == 0 and run.accepted == run.to_send
    run.status = Run.Status.DONE if ok else Run.Status.FAILED
    run.error = "" if ok else f"{run.failed} of {run.to_send} emails failed; see the run's page."
    run.finished_at = now
    run.save(update_fields=["status", "error", "finished_at"])
    return runs.Outcome(summary(run), run=run, exit_code=0 if ok else 1)


def _fail(run: Run, message: str, now: datetime) -> "runs.Outcome":
    Run.objects.filter(pk=run.pk).update(status=Run.Status.FAILED, error=message, finished_at=now)
    run.refresh_from_db()
    return runs.Outcome(message, run=run, exit_code=1)


def summary(run: Run) -> str:
    skipped = ", ".join(
        f"{n} {label}"
        for n, label in (
            (run.skipped_no_email, "without email"),
            (run.skipped_invalid_email, "with an invalid email"),
            (run.skipped_unsubscribed, "unsubscribed"),
            (run.skipped_already_sent, "already sent once"),
        )
        if n
    )
    text = (
        f"Run {run.pk} {run.get_status_display().lower()}: {run.members} members, "
        f"{run.accepted} accepted, {run.failed} failed, {run.skipped} skipped"
    )
    return f"{text} ({skipped})." if skipped else f"{text}."


def dry_run(automation: Automation, *, now: datetime, force: bool) -> "runs.Outcome":
    """Resolve and render everything, send nothing, record nothing."""
    problem = runs.refusal(automation, force=force)
    if problem:
        raise runs.Refused(problem)
    try:
        counts = runs.classify_counts(automation, now=now)
    except SegmentError as error:
        raise runs.Refused(f"The segment could not be evaluated: {error}") from None
    template = automation.message_template
    try:
        message = normalise_newlines(template.message)
        compiled = compile_template(template.type, template.subject, message)
    except TemplateSyntaxError as error:
        raise runs.Refused(f"The template does not compile: {error}") from None
    sample = _sample(automation, compiled, now=now)
    message = (
        f"Dry run of automation {automation.pk}: {counts['members']} members, "
        f"{counts['to_send']} would be sent, "
        f"{counts['members'] - counts['to_send']} skipped. Nothing was sent."
    )
    return runs.Outcome(message, counts=counts, sample=sample)


def _sample(automation: Automation, compiled: CompiledTemplate, *, now: datetime):
    members = segment_customers(automation.customer_segment, now=now)
    customer = members.exclude(email=None).exclude(email="").order_by("pk").first()
    if customer is None:
        return None
    url = unsubscribe_url(customer.pk)
    try:
        message = render_compiled(compiled, customer_context(customer, unsubscribe_url=url))
        return message if "unsubscribe_url" in compiled.variables else with_footer(message, url)
    except RenderError as error:
        message = f"The template does not render for customer {customer.pk}: {error}"
        raise runs.Refused(message) from None
