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
from dataclasses import dataclass

from templates_app import mailer
from templates_app.mailer import BatchResult, Email, SendError


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
class Outcome:
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
) -> Outcome:
    """Send one batch, retrying per the policy; raise `BatchFailed` or `RunStopped`."""
    for attempt in range(1, policy.max_attempts + 1):
        pacer.wait()
        try:
            result = mailer.send_batch_permissive(emails, idempotency_key=idempotency_key)
        except SendError as error:
            if _whole_batch_invalid(error):
                message = error.message
                return Outcome(
                    BatchResult(ids={}, errors=dict.fromkeys(range(len(emails)), message)), attempt
                )
            _give_up_unless_retriable(error, attempt=attempt, policy=policy)
            pacer.hold(_delay(error, attempt=attempt, policy=policy, jitter=jitter))
            continue
        return Outcome(result, attempt)
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
