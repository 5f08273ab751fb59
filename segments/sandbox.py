"""The database layers of the SQL sandbox, each meant to hold on its own.

- a role that may only SELECT `customers`, `customer_attributes` and
  `funnel_events` (migration 0002), switched to with `SET LOCAL ROLE`, with
  `search_path` pinned so nothing can shadow a built-in;
- a READ ONLY transaction (a savepoint when the caller is already in one) that
  is always rolled back, with `SET LOCAL statement_timeout`;
- a watchdog that cancels the query from outside the server shortly after the
  timeout, in case SQL found a way to lift the timeout;
- one statement per execute call: queries go through the extended protocol,
  which PostgreSQL refuses to run more than one statement with.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger("segments")
WATCHDOG_GRACE_SECONDS = 2.0
TEMP_FILE_LIMIT = "1GB"


class QueryFailed(Exception):
    """PostgreSQL refused or stopped the query; `position` is 1-based in the query."""

    def __init__(self, message: str, *, sqlstate: str | None, position: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.position = position

    @classmethod
    def from_error(cls, error: psycopg.Error) -> "QueryFailed":
        diag = error.diag
        position = int(diag.statement_position) if diag.statement_position else None
        message = (diag.message_primary or str(error)).strip()
        return cls(message, sqlstate=diag.sqlstate, position=position)


class SandboxCursor:
    """Runs single statements as the sandbox role; rows come back decoded."""

    def __init__(self, raw: psycopg.Connection) -> None:
        self._cursor = psycopg.Cursor(raw)

    def fetchall(self, sql: str) -> list[tuple]:
        self._execute(sql)
        return self._cursor.fetchall()

    def describe(self, sql: str) -> list[psycopg.Column]:
        self._execute(sql)
        return list(self._cursor.description or [])

    def _execute(self, sql: str) -> None:
        try:
            # binary=True forces the extended protocol: one statement per call.
            self._cursor.execute(sql, binary=True, prepare=False)
        except psycopg.Error as error:
            raise QueryFailed.from_error(error) from None


@contextmanager
def sandbox(*, timeout: float | None = None) -> Iterator[SandboxCursor]:
    """A cursor for untrusted SELECTs; whatever happens inside is rolled back."""
    seconds = settings.SEGMENT_SQL_TIMEOUT_SECONDS if timeout is None else timeout
    with transaction.atomic():
        with connection.cursor() as cursor:
            enter_sandbox(cursor, seconds)
        try:
            with watchdog(connection.connection, seconds + WATCHDOG_GRACE_SECONDS):
                yield SandboxCursor(connection.connection)
        finally:
            transaction.set_rollback(True)


def enter_sandbox(cursor, seconds: float) -> None:
    """Two round trips: what this database allows, then every SET LOCAL at once.

    The temporary-file cap only a superuser may set (a runaway sort or
    recursive CTE could fill the disk before the timeout); others go without.
    """
    role = settings.SEGMENT_SQL_ROLE
    cursor.execute(ABILITIES, {"role": quote(role)})
    role_usable, superuser, schema = cursor.fetchone()
    statements = [
        "SET TRANSACTION READ ONLY",
        f"SET LOCAL statement_timeout = {int(seconds * 1000)}",
        f"SET LOCAL search_path = pg_catalog, {quote(schema)}",
    ]
    if superuser:
        statements.append(f"SET LOCAL temp_file_limit = '{TEMP_FILE_LIMIT}'")
    if role_usable:
        statements.append(f"SET LOCAL ROLE {quote(role)}")
    else:
        warn_without_role(role)
    # Trusted text only, no parameters: one simple-protocol round trip.
    cursor.execute("; ".join(statements))


ABILITIES = """
SELECT to_regrole(%(role)s) IS NOT NULL AND pg_has_role(to_regrole(%(role)s), 'MEMBER'),
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
       current_schema()
"""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_warned = False


def warn_without_role(role: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        logger.warning(
            "SQL segments run without the read-only role %r (missing, or not granted to "
            "the app's database user); the parser, read-only transaction and timeout "
            "still apply. See docs/segments.md.",
            role,
        )


@contextmanager
def watchdog(raw: psycopg.Connection, seconds: float) -> Iterator[None]:
    """Cancel the running query from outside if it outlives `seconds`."""
    timer = threading.Timer(seconds, raw.cancel_safe)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def is_role_active() -> bool:
    """Whether the sandbox role exists and the app may switch to it."""
    with connection.cursor() as cursor:
        cursor.execute(ABILITIES, {"role": quote(settings.SEGMENT_SQL_ROLE)})
        return bool(cursor.fetchone()[0])
