"""The one answer to "which customers are in this segment?", for every caller.

`segment_customers(segment)` is a lazy QuerySet of customers for all three
types, so pages paginate it in SQL and the sender iterates it in chunks:

- manual: the ids in `customer_segment_customer_list`;
- sql: the ids the marketer's SQL returns, run in the sandbox
  (`segments.sandbox`) and stored in `customer_segment_members`;
- function: the ids the registered handler returns, stored the same way.

SQL and function segments are *materialised*: their SQL can only run inside a
read-only, rolled-back, time-limited transaction as a restricted role, so it
cannot be the subquery of a page's lazy query (that query runs later, outside
the sandbox). Evaluating copies the ids out once; pages then join
`customers` to the stored ids. A stored evaluation is reused while it is
younger than `SEGMENT_MAX_AGE_SECONDS` and newer than the definition; the
sender asks for a fresh one with `max_age=timedelta(0)`. Ids that are not
(or no longer) customers drop out in the join; duplicates count once.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format

from customers.models import Customer
from segments.handlers import HandlerFailed, run_handler
from segments.models import CustomerSegment, CustomerSegmentCustomer, SegmentMember
from segments.sandbox import QueryFailed, sandbox
from segments.sql_policy import SqlProblem, SqlRefused, select_body

PREVIEW_SIZE = 20
INTEGER_TYPES = {20, 21, 23}  # int8, int2, int4
# The user's SQL goes between these, on lines of its own so a trailing
# "-- comment" cannot swallow the closing parenthesis.
MEMBERS_PREFIX = "SELECT c.id FROM customers AS c WHERE c.id IN (SELECT s.customer_id FROM (\n"
MEMBERS_SUFFIX = "\n) AS s (customer_id))"
# The members to store come back as one value: the binary form of an int8[],
# oldest customer first, which goes back unchanged as the parameter of the INSERT
# (no Python object per member, either way). Oldest first because ids grow with
# `created_date`: rows then reach both indexes of the table in ascending key order
# (`position`, 1 = newest, is indexed descending), twice as fast as in reverse.
OLDEST_FIRST = "ORDER BY c.created_date, c.id"
STORED_PREFIX = "SELECT array_send(ARRAY(" + MEMBERS_PREFIX
STORED_SUFFIX = MEMBERS_SUFFIX + f"\n{OLDEST_FIRST}))"
DESCRIBE_PREFIX = "SELECT * FROM (\n"
DESCRIBE_SUFFIX = "\n) AS s LIMIT 0"


class SegmentError(Exception):
    """A segment could not be evaluated; the message is meant for the marketer."""

    def __init__(self, message: str, *, problem: SqlProblem | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem or SqlProblem(message)


@dataclass(frozen=True)
class Evaluation:
    count: int
    duration_ms: int
    evaluated_date: datetime


@dataclass
class Preview:
    count: int
    duration_ms: int
    customers: list[Customer] = field(default_factory=list)


def segment_customers(
    segment: CustomerSegment, *, now: datetime | None = None, max_age: timedelta | None = None
) -> QuerySet[Customer]:
    """The segment's customers, lazily. Raises `SegmentError` if it cannot be evaluated."""
    if segment.type == CustomerSegment.Type.MANUAL:
        ids = CustomerSegmentCustomer.objects.filter(customer_segment=segment)
        return Customer.objects.filter(pk__in=ids.values("customer_id"))
    now = now or timezone.now()
    if max_age is None:
        max_age = timedelta(seconds=settings.SEGMENT_MAX_AGE_SECONDS)
    read_generation(segment)
    if not segment.is_evaluation_fresh(now=now, max_age=max_age) or members_lost(segment):
        evaluate_segment(segment, now=now)
    return Customer.objects.filter(pk__in=stored_member_ids(segment))


def read_generation(segment: CustomerSegment) -> None:
    """Read the current generation afresh: another process may have evaluated since
    `segment` was loaded. The generation before it stays until the next evaluation
    but one, so a reader that loaded it keeps its rows."""
    current = CustomerSegment.objects.filter(pk=segment.pk).values_list("members_generation")
    segment.members_generation = (current.first() or (segment.members_generation,))[0]


def segment_customers_page(segment: CustomerSegment, *, start: int, stop: int) -> QuerySet:
    """Customers `start`+1 … `stop` of an evaluated SQL or function segment in the
    customers page's default order (newest first), read by stored position: the
    same few index entries for page 1,000 as for page 1. Reads the generation
    `segment_customers` read (or wrote).

    The order is the one at evaluation time; a customer deleted since leaves a
    gap (a short page) until the next evaluation.
    """
    members = stored_members(segment).filter(position__gt=start, position__lte=stop)
    customers = Customer.objects.filter(pk__in=members.values("customer_id"))
    return customers.order_by("-created_date", "-id")


def members_lost(segment: CustomerSegment) -> bool:
    """Whether a crash has emptied the (unlogged) stored members: an evaluation that
    counted members whose rows are gone. Asks the table, not a clock, so it holds
    whatever `now` the caller passes."""
    if segment.last_evaluated_date is None:
        return True
    return bool(segment.last_count) and not stored_member_ids(segment).exists()


def stored_members(segment: CustomerSegment) -> QuerySet[SegmentMember]:
    """Rows of the segment's generation (see `read_generation`). The generation is
    a literal so the planner can use the table's statistics to pick a plan for 30
    or 300k rows."""
    return SegmentMember.objects.filter(segment=segment, generation=segment.members_generation)


def stored_member_ids(segment: CustomerSegment) -> QuerySet:
    """Customer ids of the current generation (see `stored_members`)."""
    return stored_members(segment).values("customer_id")


def evaluate_segment(segment: CustomerSegment, *, now: datetime) -> Evaluation:
    """Evaluate the segment now and record its count, time and duration on it."""
    started = time.monotonic()
    if segment.type == CustomerSegment.Type.MANUAL:
        count = segment_customers(segment).count()
    elif segment.type == CustomerSegment.Type.SQL:
        count = store_members(segment, sql_member_ids(segment.selection_sql or ""))
    else:
        count = store_members(segment, handler_member_ids(segment, now=now))
    evaluation = Evaluation(count, int((time.monotonic() - started) * 1000), now)
    record_evaluation(segment, evaluation)
    return evaluation


def record_evaluation(segment: CustomerSegment, evaluation: Evaluation) -> None:
    segment.last_count = evaluation.count
    segment.last_duration_ms = evaluation.duration_ms
    segment.last_evaluated_date = evaluation.evaluated_date
    CustomerSegment.objects.filter(pk=segment.pk).update(
        last_count=evaluation.count,
        last_duration_ms=evaluation.duration_ms,
        last_evaluated_date=evaluation.evaluated_date,
    )


def check_segment_sql(sql: str) -> SqlProblem | None:
    """Why `sql` cannot be a segment (parser, then a dry run in the sandbox), or None."""
    try:
        run_checked(sql, lambda body: None)
    except SegmentError as error:
        return error.problem
    return None


def preview_segment_sql(sql: str) -> Preview:
    """Member count, first customers and run time of `sql`, without saving anything."""
    started = time.monotonic()
    count, first_ids = run_checked(sql, preview_query)[0]
    customers = list(Customer.objects.filter(pk__in=first_ids).order_by("pk"))
    return Preview(count, int((time.monotonic() - started) * 1000), customers)


def preview_query(body: str) -> str:
    return (
        f"WITH m AS MATERIALIZED ({MEMBERS_PREFIX}{body}{MEMBERS_SUFFIX}) "
        f"SELECT (SELECT count(*) FROM m), ARRAY(SELECT id FROM m ORDER BY id LIMIT {PREVIEW_SIZE})"
    )


class SandboxIds(bytes):
    """Distinct ids of existing customers, oldest customer first, as the sandboxed
    member query returns them: the binary form of an int8[] (`array_send`)."""


class SandboxIdsDumper(Dumper):
    """Sends `SandboxIds` back to PostgreSQL as the int8[] they came as."""

    format = Format.BINARY
    oid = postgres.types["int8"].array_oid

    def dump(self, obj: SandboxIds) -> bytes:
        return obj


def sql_member_ids(sql: str) -> SandboxIds:
    rows = run_checked(sql, lambda body: STORED_PREFIX + body + STORED_SUFFIX)
    return SandboxIds(rows[0][0])


def run_checked(sql: str, build: Callable[[str], str | None]) -> list[tuple]:
    """Check `sql` and run `build(body)` in one sandbox transaction (one snapshot).

    The check is the parser, then a dry run (`LIMIT 0`: planned, not run) for
    the columns. Raises `SegmentError` with PostgreSQL's position mapped back
    into `sql`.
    """
    try:
        body = select_body(sql)
    except SqlRefused as refused:
        raise SegmentError(refused.problem.message, problem=refused.problem) from None
    query = DESCRIBE_PREFIX + body + DESCRIBE_SUFFIX
    try:
        with sandbox() as cursor:
            check_columns(cursor.describe(query))
            query = build(body)
            return cursor.fetchall(query) if query else []
    except QueryFailed as failed:
        prefix = query[: query.index(body)]
        problem = database_problem(failed, sql=sql, body=body, prefix=prefix)
        raise SegmentError(problem.message, problem=problem) from None


def check_columns(columns: list) -> None:
    if len(columns) != 1:
        count = len(columns)
        message = f"Return exactly one column of customer ids; this returns {count}."
        raise SegmentError(message)
    if columns[0].type_code not in INTEGER_TYPES:
        raise SegmentError(f"The column {columns[0].name!r} must hold customer ids (integers).")


def database_problem(failed: QueryFailed, *, sql: str, body: str, prefix: str) -> SqlProblem:
    """PostgreSQL's complaint, with its position moved back into the marketer's SQL."""
    message = failed.message
    if failed.sqlstate == "57014":  # query_canceled: the timeout or the watchdog
        seconds = settings.SEGMENT_SQL_TIMEOUT_SECONDS
        message = f"The query ran longer than the {seconds:g} s limit and was stopped."
    position = None
    if failed.position:
        within_body = failed.position - len(prefix)
        if 0 < within_body <= len(body):
            position = sql.index(body) + within_body
    return SqlProblem(message, position)


def handler_member_ids(segment: CustomerSegment, *, now: datetime) -> Iterable[int] | QuerySet:
    try:
        return run_handler(segment.handler_function or "", now=now)
    except HandlerFailed as failed:
        raise SegmentError(str(failed)) from None


INSERT_MEMBERS = (
    "INSERT INTO customer_segment_members (segment_id, generation, customer_id, position) "
)

INSERT_FROM_ARRAY = INSERT_MEMBERS + (
    "SELECT %s, %s, m.id, cardinality(a.ids) - m.n + 1 "
    "FROM (SELECT %b::bigint[] AS ids) AS a, unnest(a.ids) WITH ORDINALITY AS m (id, n)"
)
# Position 1 is the newest customer; rows come out oldest first (see OLDEST_FIRST).
POSITION = f"count(*) OVER () - row_number() OVER ({OLDEST_FIRST}) + 1"


def insert_sandbox_ids(segment: CustomerSegment, generation: int, ids: SandboxIds) -> int:
    """One INSERT of the array as it came from the sandbox; its order gives the positions.
    Through a server-side-binding cursor, so the array travels as one binary
    parameter (Django's cursor would spell 300k ids out as text)."""
    with psycopg.Cursor(connection.connection) as raw:
        raw.adapters.register_dumper(SandboxIds, SandboxIdsDumper)
        raw.execute(INSERT_FROM_ARRAY, [segment.pk, generation, ids], prepare=False)
        return raw.rowcount


def store_members(segment: CustomerSegment, ids: Iterable[int] | QuerySet) -> int:
    """Replace the segment's stored members with `ids` (set-wise); returns the count.

    A QuerySet runs inside the database and a list of untrusted ids is joined
    to `customers`, so only existing customers are kept, each once; ids from
    the sandbox (`SandboxIds`) are customers already, in order. Each row
    gets its `position` in the page's default order. Rows are written as a new
    generation; the one before stays for readers still iterating it (the
    sender), older ones are deleted.
    """
    if isinstance(ids, QuerySet):
        inner, params = ids.query.sql_with_params()
        select = f"SELECT %s, %s, c.id, {POSITION} FROM customers AS c WHERE c.id IN ({inner})"
    elif not isinstance(ids, SandboxIds):
        select = (
            f"SELECT %s, %s, c.id, {POSITION} FROM customers AS c "
            "WHERE c.id IN (SELECT unnest(%s::bigint[]))"
        )
        params = [list(ids)]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            generation = next_generation(cursor, segment)
            if isinstance(ids, SandboxIds):
                count = insert_sandbox_ids(segment, generation, ids)
            else:
                cursor.execute(INSERT_MEMBERS + select, [segment.pk, generation, *params])
                count = cursor.rowcount
            cursor.execute(
                "DELETE FROM customer_segment_members WHERE segment_id = %s AND generation < %s",
                [segment.pk, generation - 1],
            )
            # Fresh statistics, or the first page plans for a handful of members.
            cursor.execute("ANALYZE customer_segment_members")
    except (DatabaseError, psycopg.Error) as error:
        raise SegmentError(f"The segment's members could not be stored: {error}") from None
    segment.members_generation = generation
    return count


def next_generation(cursor, segment: CustomerSegment) -> int:
    # The row lock makes two evaluations of one segment write one after the other.
    cursor.execute(
        "UPDATE customer_segments SET members_generation = members_generation + 1 "
        "WHERE id = %s RETURNING members_generation",
        [segment.pk],
    )
    return cursor.fetchone()[0]
