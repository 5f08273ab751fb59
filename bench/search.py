"""Server time of the list pages over 1M customers, 5M attributes and 10M events.

Each page is requested `--requests` times in-process with Django's test Client,
logged in, timing the whole request (middleware, view, queries, template).
Goal: p95 ≤ 150 ms for each. For a page that misses the goal its slowest
queries are printed with `EXPLAIN (ANALYZE, BUFFERS)`.

    .venv/bin/python -m bench.search [--scale 1] [--database-url URL] [--rebuild]

The data comes from bench/data.py; it is built first when the database holds
fewer customers than the scale asks for (or with --rebuild).
"""

import math
import os
import statistics
import sys
import time

from bench.data import FULL, arguments, build
from bench.database import connect, ensure_database
from bench.machine import describe_machine

GOAL_MS = 150.0


def pages(url: str) -> list[tuple[str, str]]:
    """(label, path) of every page measured; searches use values that exist."""
    with connect(url) as conn:
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        email = conn.execute(
            "SELECT email FROM customers WHERE email IS NOT NULL AND id >= "
            "(SELECT max(id) / 2 FROM customers) ORDER BY id LIMIT 1"
        ).fetchone()[0]
    deep = max(1, min(1000, customers // 50))  # page 1,000 at full scale
    return [
        ("customers, page 1", "/customers/"),
        (f"customers, page {deep:,}", f"/customers/?page={deep}"),
        ("customers, name search", "/customers/?q=Priya+Sharma"),
        ("customers, email search", f"/customers/?q={email}"),
        ("customers, attribute filter", "/customers/?attribute=city&value=Pune"),
        ("events, page 1", "/events/"),
        ("events, filtered", "/events/?funnel_type=sales&to_stage=enrolled"),
    ]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_os.settings")
    hosts = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["ALLOWED_HOSTS"] = f"{hosts},testserver"  # the test Client's host name
    import django

    django.setup()


def logged_in_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench")
    client = Client()
    client.force_login(user)
    return client


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(client, path: str, requests: int) -> tuple[int, list[float]]:
    """(status, milliseconds per request) after one warm-up request."""
    status = client.get(path).status_code
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        status = client.get(path).status_code
        timings.append((time.perf_counter() - started) * 1000)
    return status, timings


def explain_slowest(client, path: str, *, show: int = 3, above_ms: float = 5) -> None:
    """Capture one request's queries; EXPLAIN ANALYZE the slowest `show` of them that
    took over `above_ms`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    slow = [q for q in captured.captured_queries if float(q["time"]) * 1000 > above_ms]
    slowest = sorted(slow, key=lambda q: -float(q["time"]))[:show]
    for query in slowest:
        print(f"\n  -- {float(query['time']) * 1000:.0f} ms: {query['sql'][:400]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            for (line,) in cursor.fetchall():
                print(f"  {line}")


def run(url: str, requests: int, *, goal_ms: float = GOAL_MS) -> list[str]:
    """Measure every page; print a table; return the labels that miss the goal."""
    client = logged_in_client()
    header = f"{'page':<30} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    print(f"\n{header}  goal p95 ≤ {goal_ms:g} ms")
    misses = []
    for label, path in pages(url):
        status, timings = measure(client, path, requests)
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        verdict = "ok" if status == 200 and p95 <= goal_ms else "MISSED"
        print(f"{label:<30} {status:>6} {p50:8.1f} {p95:8.1f} {max(timings):8.1f}  {verdict}")
        if verdict == "MISSED":
            misses.append((label, path))
    for label, path in misses:
        print(f"\n== {label}: {path}")
        explain_slowest(client, path)
    return [label for label, _ in misses]


def customer_count(url: str) -> int:
    with connect(url) as conn:
        return conn.execute("SELECT count(*) FROM customers").fetchone()[0]


def main() -> None:
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="per page (default 50)")
    parser.add_argument("--rebuild", action="store_true", help="refill the tables first")
    parser.add_argument("--goal-ms", type=float, default=GOAL_MS, help="p95 goal per page")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    url = options.database_url
    ensure_database(url)
    if options.rebuild or customer_count(url) < round(FULL["customers"] * options.scale):
        build(url, options.scale)
    print(describe_machine(url))
    with connect(url) as conn:
        for table in ("customers", "customer_attributes", "funnel_events"):
            rows = conn.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'")
            print(f"{table}: ~{rows.fetchone()[0]:,} rows")
    setup_django(url)
    misses = run(url, options.requests, goal_ms=options.goal_ms)
    raise SystemExit(1 if misses else 0)


if __name__ == "__main__":
    main()
