"""The cost of the API's per-key rate counter (marketing_os/rate_limit.py), per request.

Runs the counter statement `--count` times (10,000) for one key, one after another on one
connection, as a request does: against the UNLOGGED table the migration makes, against
the same table made LOGGED (what UNLOGGED saves), and `SELECT 1` (the round trip alone).
Prints the mean and p50/p99 of each in microseconds, with the machine.

    .venv/bin/python -m bench.rate_limit [--count 10000] [--database-url URL]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.database import ensure_database
from bench.machine import describe_machine
from bench.search import percentile

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench_rate"


def timed(count: int, run) -> list[float]:
    timings = []
    for i in range(count):
        started = time.perf_counter()
        run(i)
        timings.append((time.perf_counter() - started) * 1_000_000)
    return timings


def line(label: str, timings: list[float]) -> str:
    return (
        f"{label:<28} mean {statistics.fmean(timings):6.0f} µs, p50 "
        f"{statistics.median(timings):6.0f} µs, p99 {percentile(timings, 0.99):6.0f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    url = options.database_url
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_os.settings")
    import django

    django.setup()
    from django.db import connection

    from marketing_os.models import ApiKey, create_api_key
    from marketing_os.rate_limit import count_request

    print(describe_machine(url))
    ApiKey.objects.filter(name="bench-rate").update(revoked_at=datetime.now(UTC))
    key, _ = create_api_key("bench-rate", rate_limit_per_minute=10**9)
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    # A new minute every 600 requests, so the statement's purge of old windows runs too.
    moment = [start + timedelta(seconds=i * 0.1) for i in range(options.count)]

    def select_one(i: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def counter(i: int) -> None:
        count_request(key, now=moment[i])

    timed(200, select_one)  # warm-up: connection, plans
    results = {"SELECT 1 (round trip)": timed(options.count, select_one)}
    results["counter, UNLOGGED table"] = timed(options.count, counter)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE api_rate_counters SET LOGGED")
    try:
        results["counter, LOGGED table"] = timed(options.count, counter)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE api_rate_counters SET UNLOGGED")
    print(f"{options.count:,} statements each, one connection, sequential:")
    for label, timings in results.items():
        print(line(label, timings))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM api_rate_counters WHERE api_key_id = %s", [key.pk])
        print(f"counter rows left for the key: {cursor.fetchone()[0]} (old minutes purged)")


if __name__ == "__main__":
    main()
