"""Fill a benchmark database fast: 1M customers, 5M attributes, 10M funnel events
(at `--scale 1`), made by SQL `generate_series` — not the ingest path, which is
what `bench/ingest.py` measures.

The shape follows production: names drawn with a skew from the demo vocabulary
(common names are common), 97% with an email, 95% with a mobile, attributes of
every type (about five a customer), and customers walking the sales and
service-delivery funnels with drop-offs, in time order. Secondary indexes and
foreign keys are dropped during the load and rebuilt after it (much faster
than maintaining them row by row); everything runs in one transaction, then
VACUUM ANALYZE.

    .venv/bin/python -m bench.data [--scale 0.01] [--database-url URL]
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench.database import DEFAULT_URL, connect, ensure_database
from bench.machine import describe_machine
from customers.demo_data import (
    CITIES,
    COURSES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    INTERESTS,
    LAST_NAMES,
)
from funnel.journeys import SALES, SERVICE_DELIVERY

FULL = {"customers": 1_000_000, "attributes": 5_000_000, "events": 10_000_000}
TABLES = ("customers", "customer_attributes", "funnel_events")
HISTORY = timedelta(days=3 * 365)  # customers arrived over three years
LEAD_ID_PREFIX = "LMS-B-"
EVENTS_PER_JOURNEY = 3.59  # the mean of the journeys made below; see JOURNEYS

CUSTOMERS = """
INSERT INTO customers (id, lms_lead_id, first_name, last_name, email, mobile,
                       created_date, updated_date)
SELECT g, %(prefix)s || lpad(g::text, 7, '0'), first_name, last_name,
       CASE WHEN random() < 0.97 THEN
           lower(replace(first_name || '.' || last_name, '''', ''))
           || CASE WHEN random() < 0.6 THEN (1 + floor(random() * 998))::int::text ELSE '' END
           || '@' || (%(domains)s::text[])[1 + floor(random() * %(n_domains)s)::int]
       END,
       CASE WHEN random() < 0.95 THEN
           '+91 ' || (6 + floor(random() * 4))::int || lpad(floor(random() * 10000)::text, 4, '0')
           || ' ' || lpad(floor(random() * 100000)::text, 5, '0')
       END,
       arrived, arrived
FROM (
    SELECT g,
           -- power() skews choices towards the front of the lists: common names stay common
           (%(first)s::text[])[1 + floor(power(random(), 1.2) * %(n_first)s)::int] AS first_name,
           (%(last)s::text[])[1 + floor(power(random(), 1.2) * %(n_last)s)::int] AS last_name,
           %(start)s::timestamptz + (g::float8 / %(n)s) * %(span)s::interval AS arrived
    FROM generate_series(1, %(n)s) AS g
) AS people
"""

# One row per customer and attribute slot, kept with the slot's probability:
# the probabilities add up to 5, so about five attributes a customer.
ATTRIBUTES = """
INSERT INTO customer_attributes (customer_id, field_name, field_type, field_value,
                                 created_date, updated_date)
SELECT g, name, type,
       CASE name
           WHEN 'city' THEN to_jsonb((%(cities)s::text[])[1 + floor(random() * %(n_cities)s)::int])
           WHEN 'course' THEN
               to_jsonb((%(courses)s::text[])[1 + floor(random() * %(n_courses)s)::int])
           WHEN 'intake_year' THEN to_jsonb(2025 + floor(random() * 4)::int)
           WHEN 'scholarship' THEN to_jsonb(random() < 0.3)
           WHEN 'interests' THEN
               -- two picks from the two halves of the list: never the same interest twice
               jsonb_build_array((%(interests)s::text[])[1 + floor(random() * %(half)s)::int])
               || CASE WHEN random() < 0.5 THEN jsonb_build_array((%(interests)s::text[])
                   [1 + %(half)s + floor(random() * (%(n_i)s - %(half)s))::int]) ELSE '[]' END
           WHEN 'application_date' THEN
               to_jsonb(to_char(
               arrived + random() * LEAST(interval '60 days', %(now)s - arrived), 'YYYY-MM-DD'))
           WHEN 'last_login' THEN to_jsonb(to_char(
               (arrived + random() * (%(now)s::timestamptz - arrived)) AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
           WHEN 'budget' THEN to_jsonb(50000 + 5000 * floor(random() * 490)::int)
       END,
       arrived, arrived
FROM (
    -- the draw is made in a subquery: a bare random() in WHERE would be evaluated once
    -- per slot rather than once per customer and slot
    SELECT g, arrived, slot.*, random() AS draw
    FROM (SELECT g, %(start)s::timestamptz + (g::float8 / %(n)s) * %(span)s::interval AS arrived
          FROM generate_series(1, %(n)s) AS g) AS customers
    CROSS JOIN (VALUES ('city', 'string', 1.0), ('course', 'string', 1.0),
                       ('intake_year', 'numeric', 0.8), ('scholarship', 'boolean', 0.5),
                       ('interests', 'array', 0.5), ('application_date', 'date', 0.4),
                       ('last_login', 'timestamp', 0.5), ('budget', 'numeric', 0.3))
         AS slot(name, type, probability)
) AS slot
WHERE draw < probability
"""

# Journeys follow each other in time (journey j belongs to customer j*C/J and
# starts when that customer arrived), so ids and dates grow together as in
# production. One uniform draw `u` decides how far a journey gets: the
# thresholds are the products of the funnels' advance probabilities.
JOURNEYS = """
INSERT INTO funnel_events (customer_id, funnel_type, from_stage, to_stage, created_date)
SELECT customer_id, funnel_type, stages[k - 1],
       CASE WHEN k <= reached THEN stages[k] ELSE dropped END,
       LEAST(%(now)s::timestamptz,
             started + (k - 1) * interval '3 days' + random() * interval '2 days')
FROM (
    SELECT j, customer_id, started, funnel_type, stages, dropped, reached,
           reached + (reached < cardinality(stages) AND random() < 0.85)::int AS steps
    FROM (
        SELECT j, 1 + (j - 1) * %(customers)s::bigint / %(journeys)s AS customer_id,
               %(start)s::timestamptz + (j::float8 / %(journeys)s) * %(span)s::interval
                   + random() * interval '2 days' AS started,
               CASE WHEN sales THEN 'sales' ELSE 'service-delivery' END AS funnel_type,
               CASE WHEN sales THEN %(sales)s::text[] ELSE %(service)s::text[] END AS stages,
               CASE WHEN sales THEN %(lost)s ELSE %(service_dropped)s END AS dropped,
               1 + (SELECT count(*) FROM unnest(CASE WHEN sales THEN %(sales_reach)s::float8[]
                                                     ELSE %(service_reach)s::float8[] END) AS t
                    WHERE u < t)::int AS reached
        FROM (SELECT j, random() < 0.7 AS sales, random() AS u
              FROM generate_series(1, %(journeys)s) AS j) AS draws
    ) AS journeys
) AS walks
CROSS JOIN LATERAL generate_series(1, steps) AS k
LIMIT %(events)s
"""


def reach_thresholds(advance: tuple[float, ...]) -> list[float]:
    """P(reaching stage 2), P(reaching stage 3), …: running products."""
    thresholds, chance = [], 1.0
    for probability in advance:
        chance *= probability
        thresholds.append(chance)
    return thresholds


def weighted(choices: dict[str, int]) -> list[str]:
    """A list where each choice appears as often as its weight: uniform picks follow it."""
    return [name for name, weight in choices.items() for _ in range(weight)]


def parameters(scale: float, *, now: datetime) -> dict:
    counts = {name: max(1, round(count * scale)) for name, count in FULL.items()}
    lists = {
        "first": FIRST_NAMES,
        "last": LAST_NAMES,
        "domains": weighted(EMAIL_DOMAINS),
        "cities": weighted(CITIES),
        "courses": weighted(COURSES),
        "interests": INTERESTS,
    }
    params = {
        "n": counts["customers"],
        "customers": counts["customers"],
        "events": counts["events"],
        "journeys": round(counts["events"] / EVENTS_PER_JOURNEY * 1.01),
        "now": now,
        "start": now - HISTORY,
        "span": HISTORY - timedelta(days=1),
        "prefix": LEAD_ID_PREFIX,
        "sales": list(SALES.stages),
        "service": list(SERVICE_DELIVERY.stages),
        "lost": SALES.dropped,
        "service_dropped": SERVICE_DELIVERY.dropped,
        "sales_reach": reach_thresholds(SALES.advance),
        "service_reach": reach_thresholds(SERVICE_DELIVERY.advance),
    }
    params["n_i"], params["half"] = len(INTERESTS), len(INTERESTS) // 2
    for name, values in lists.items():
        params[name] = list(values)
        params[f"n_{name}"] = len(values)
    return params


def droppable(conn: psycopg.Connection, table: str) -> tuple[list[tuple], list[tuple]]:
    """(constraints, indexes) that can go during the load: unique and foreign-key
    constraints, and indexes other than the primary key, with their definitions."""
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
        [table],
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
        "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [table],
    ).fetchall()
    return constraints, indexes


def timed(label: str, conn: psycopg.Connection, statement: str, params=None) -> float:
    started = time.monotonic()
    cursor = conn.execute(statement, params)
    elapsed = time.monotonic() - started
    rows = f"{cursor.rowcount:>12,} rows" if cursor.rowcount >= 0 else " " * 17
    print(f"  {label:<66.66} {rows} {elapsed:7.1f} s", flush=True)
    return elapsed


def fill(url: str, scale: float, *, now: datetime) -> dict[str, int]:
    """Replace the three tables' rows with generated ones; return the row counts."""
    params = parameters(scale, now=now)
    with psycopg.connect(url) as conn:  # one transaction: all or nothing
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SELECT setseed(0.2026)")
        saved = {table: droppable(conn, table) for table in TABLES}
        for table, (constraints, indexes) in saved.items():
            for name, _, _ in constraints:
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")
        timed("truncate", conn, "TRUNCATE customers, customer_attributes, funnel_events "
              "RESTART IDENTITY CASCADE")  # fmt: skip
        timed("customers", conn, CUSTOMERS, params)
        timed("customer_attributes", conn, ATTRIBUTES, params)
        timed("funnel_events", conn, JOURNEYS, params)
        conn.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), %s)", [params["n"]])
        for table, (constraints, indexes) in saved.items():
            for name, definition in indexes:
                timed(f"index {name}", conn, definition)
            for name, definition, _ in sorted(constraints, key=lambda c: c[2] == "f"):
                timed(f"constraint {name}", conn, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" '
                      f"{definition}")  # fmt: skip
    with connect(url) as conn:
        for table in TABLES:
            timed(f"vacuum analyze {table}", conn, f"VACUUM ANALYZE {table}")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def build(url: str, scale: float) -> dict[str, int]:
    """Fill the (existing, migrated) database at `url`; print progress and counts."""
    started = time.monotonic()
    print(f"filling {url} at scale {scale}:", flush=True)
    counts = fill(url, scale, now=datetime.now(UTC))
    elapsed = time.monotonic() - started
    summary = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    print(f"done in {elapsed:.0f} s: {summary}")
    return counts


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1M/5M/10M rows")
    return parser


def main() -> None:
    options = arguments(__doc__.split("\n\n")[0]).parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    ensure_database(options.database_url)
    print(describe_machine(options.database_url))
    build(options.database_url, options.scale)


if __name__ == "__main__":
    main()
