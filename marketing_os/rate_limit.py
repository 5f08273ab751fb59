"""Per-key rate limits of the API, counted in PostgreSQL so every server process shares them.

A fixed window of one minute (aligned to the clock: 09:30:00–09:30:59) per key. Each
authenticated request runs one statement, in autocommit (before the request's own
transaction, so the counter row is locked for microseconds, not for the request):

- it deletes the key's counters of earlier minutes (the table holds about one row per
  busy key, with no cron job; an idle key keeps its last row until it is used again),
- adds one to this minute's counter unless it has reached the limit, and returns it.

No row returned means the limit is reached: the request gets 429 and writes nothing (the
counter stays at the limit). A fixed window lets a client send up to twice the limit
across a minute's boundary; for a guard against runaway clients that is enough, and it
costs one row per key where a sliding log would cost one row per request.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.http import HttpRequest, HttpResponse

from marketing_os.models import ApiKey

WINDOW = timedelta(minutes=1)

COUNT = """
WITH purge AS (
    DELETE FROM api_rate_counters WHERE api_key_id = %(key)s AND window_start < %(window)s
)
INSERT INTO api_rate_counters AS counter (api_key_id, window_start, count)
VALUES (%(key)s, %(window)s, 1)
ON CONFLICT (api_key_id, window_start) DO UPDATE SET count = counter.count + 1
    WHERE counter.count < %(limit)s
RETURNING count
"""


@dataclass(frozen=True)
class RateState:
    """Where a key stands in this minute, as the X-RateLimit-* headers tell it."""

    limit: int
    remaining: int
    reset_seconds: int  # until the window ends; also the 429's Retry-After

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def add_headers(self, response: HttpResponse) -> None:
        response["X-RateLimit-Limit"] = str(self.limit)
        response["X-RateLimit-Remaining"] = str(max(self.remaining, 0))
        response["X-RateLimit-Reset"] = str(self.reset_seconds)
        if self.exceeded:
            response["Retry-After"] = str(self.reset_seconds)


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def seconds_left(now: datetime) -> int:
    """Whole seconds until the window ends, rounded up: at least 1, at most 60."""
    left = (window_start(now) + WINDOW - now).total_seconds()
    return max(1, math.ceil(left))


def count_request(key: ApiKey, *, now: datetime) -> RateState | None:
    """Count one request of `key`; None when the key is unlimited (nothing is counted)."""
    limit = key.rate_limit
    if not limit:
        return None
    with connection.cursor() as cursor:
        cursor.execute(COUNT, {"key": key.pk, "window": window_start(now), "limit": limit})
        row = cursor.fetchone()
    remaining = limit - row[0] if row else -1
    return RateState(limit=limit, remaining=remaining, reset_seconds=seconds_left(now))


def add_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The X-RateLimit-* headers on every answer to a counted request."""
    state = getattr(request, "api_rate", None)
    if state is not None:
        state.add_headers(response)
    return response
