"""Segment benchmarks (issue 3): SQL segment count and pages, manual upload.

    .venv/bin/python -m bench.segments [--customers 20000] [--upload-lines 500000]
                                       [--database-url postgresql://…/mos_bench_segments]

At full size (`--customers 1000000`: 1M customers, 5M attributes, 10M events)
the goals are: an SQL segment over attributes and events matching ~30% of the
customers is counted, and the first page of /segments/<id>/customers/ served,
each within 1.5× of running the same SQL directly with psql in the same run;
page 1,000 of its customers in ≤ 500 ms; a 500,000-line member CSV uploads
in ≤ 30 s. The data is made with `generate_series` (same table shapes as
production, simpler values). The database is emptied and refilled when its
size differs, so the name must contain "bench". Prints figures and the machine;
exits 1 when a goal is missed.
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench_segments"
SEGMENT_SQL = """SELECT a.customer_id
FROM customer_attributes AS a
WHERE a.field_name = 'score'
  AND (a.field_value)::numeric >= 40
  AND EXISTS (
    SELECT 1 FROM funnel_events AS e
    WHERE e.customer_id = a.customer_id
      AND e.funnel_type = 'sales' AND e.to_stage = 'applied'
  )"""
STAGES = ["lead", "contacted", "applied", "enrolled"]

FILL = [
    """INSERT INTO customers (id, lms_lead_id, first_name, last_name, email, mobile,
                              created_date, updated_date)
       SELECT g, 'LMS-S-' || lpad(g::text, 8, '0'), 'First' || (g %% 997), 'Last' || (g %% 1009),
              'user' || g || '@example.com', '+91 9' || lpad((g %% 1000000000)::text, 9, '0'),
              now() - (g %% 1000) * interval '1 day', now()
       FROM generate_series(1, %(n)s) AS g""",
    """INSERT INTO customer_attributes (customer_id, field_name, field_type, field_value)
       SELECT g, f.name, f.type,
              CASE f.name
                WHEN 'score' THEN to_jsonb((g::bigint * 7919) %% 100)
                WHEN 'city' THEN to_jsonb((ARRAY['Pune','Delhi','Mumbai','Chennai'])[1 + g %% 4])
                WHEN 'intake_year' THEN to_jsonb(2025 + g %% 4)
                WHEN 'scholarship' THEN to_jsonb(g %% 3 = 0)
                ELSE jsonb_build_array('ai', 'design') END
       FROM generate_series(1, %(n)s) AS g,
            (VALUES ('score', 'numeric'), ('city', 'string'), ('intake_year', 'numeric'),
                    ('scholarship', 'boolean'), ('interests', 'array')) AS f (name, type)""",
    # Ten events a customer: four sales stages walked as far as the customer
    # got, then service-delivery events to make up the rest.
    """INSERT INTO funnel_events (customer_id, funnel_type, from_stage, to_stage, created_date)
       SELECT g,
              CASE WHEN k <= reached THEN 'sales' ELSE 'service-delivery' END,
              CASE WHEN k <= reached AND k > 1 THEN (%(stages)s::text[])[k - 1] END,
              CASE WHEN k <= reached THEN (%(stages)s::text[])[k] ELSE 'session-' || k END,
              now() - (g %% 1000) * interval '1 day' + k * interval '1 hour'
       FROM (SELECT g, 1 + (g * 31) %% 4 AS reached FROM generate_series(1, %(n)s) AS g) AS c,
            generate_series(1, 10) AS k""",
]


def main() -> int:
    args = parse_args()
    check_bench_database(args.database_url)
    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_os.settings")
    print(describe_machine(args.database_url))
    fill(args.database_url, args.customers)
    import django

    django.setup()
    results = measure(args)
    return report(results, full_size=args.customers >= 1_000_000)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--upload-lines", type=int, default=500_000, help="0 skips the upload")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    return parser.parse_args()


def check_bench_database(url: str) -> None:
    if "bench" not in urlparse(url).path:
        raise SystemExit("refusing: the benchmark empties its database, whose name must say bench")


def ensure_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    server = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": url},
        check=True,
    )


def describe_machine(url: str) -> str:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
        platform.processor(),
    )
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, load {load}; Python {platform.python_version()}\n"
        f"database: PostgreSQL {version} (shared_buffers {buffers}) at {urlparse(url).hostname}"
    )


def fill(url: str, customers: int) -> None:
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        if have == customers:
            print(f"data: reusing {customers:,} customers")
            return
        started = time.monotonic()
        conn.execute(
            "TRUNCATE customers, customer_attributes, funnel_events, customer_segments, "
            "customer_segment_members, customer_segment_customer_list, "
            "customer_segment_uploads CASCADE"
        )
        for statement in FILL:
            conn.execute(statement, {"n": customers, "stages": STAGES})
        conn.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), %s)", [customers])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(
        f"data: {customers:,} customers, {customers * 5:,} attributes, "
        f"{customers * 10:,} events in {time.monotonic() - started:.1f} s"
    )


def psql_ms(url: str, sql: str) -> float:
    """Server time of `sql` run by psql (\\timing), best of two."""
    script = f"\\timing on\n{sql};\n{sql};\n"
    done = subprocess.run(
        ["psql", "-X", "-q", "-o", "/dev/null", url], input=script, capture_output=True, text=True
    )
    times = [float(t) for t in re.findall(r"Time: ([\d.]+) ms", done.stdout + done.stderr)]
    if not times:
        raise SystemExit(f"psql failed: {done.stderr}")
    return min(times)


def timed(function, *args, repeat: int = 2, **kwargs) -> tuple[float, object]:
    """Best wall time in ms of `repeat` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, (time.perf_counter() - started) * 1000)
    return best, result


def measure(args: argparse.Namespace) -> dict:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from segments.evaluation import evaluate_segment, preview_segment_sql
    from segments.models import CustomerSegment

    url = args.database_url
    results: dict = {}
    count_sql = f"SELECT count(DISTINCT customer_id) FROM ({SEGMENT_SQL}) AS s"
    results["psql count"] = psql_ms(url, count_sql)
    results["psql first page"] = psql_ms(
        url,
        "SELECT id, lms_lead_id, first_name, last_name, email, mobile, created_date "
        f"FROM customers WHERE id IN ({SEGMENT_SQL}) ORDER BY created_date DESC, id DESC LIMIT 50",
    )
    CustomerSegment.objects.filter(name="bench sql segment").delete()
    segment = CustomerSegment.objects.create(
        name="bench sql segment", type="sql", selection_sql=SEGMENT_SQL
    )
    results["count (preview)"], preview = timed(lambda: preview_segment_sql(SEGMENT_SQL))
    results["count (evaluate)"], evaluation = timed(
        lambda: evaluate_segment(segment, now=timezone.now())
    )
    results["members"] = evaluation.count
    user, _ = User.objects.get_or_create(username="bench-segments")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    page_url = f"/segments/{segment.pk}/customers/"

    def cold_first_page():
        CustomerSegment.objects.filter(pk=segment.pk).update(last_evaluated_date=None)
        return client.get(page_url)

    results["first page, evaluating"], response = timed(cold_first_page)
    assert response.status_code == 200, response.status_code
    results["first page, stored"], _ = timed(client.get, page_url, repeat=3)
    last_page = max(1, (evaluation.count + 49) // 50)
    page = min(1000, last_page)
    results["deep page"] = page
    results["page N, stored"], response = timed(client.get, page_url, {"page": page}, repeat=3)
    assert response.status_code == 200
    results["upload"] = measure_upload(args.upload_lines, user) if args.upload_lines else None
    return results


def measure_upload(lines: int, user) -> float:
    from django.utils import timezone

    from customers.models import Customer
    from segments.members import upload_members
    from segments.models import CustomerSegment

    count = Customer.objects.count()
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as out:
        out.write("lms_lead_id\n")
        for n in range(lines):
            # 1% of the lines name nobody; the rest cycle through the customers.
            out.write(f"LMS-S-{(n % count) + 1:08d}\n" if n % 100 else f"NOBODY-{n}\n")
    segment, _ = CustomerSegment.objects.get_or_create(name="bench manual segment")
    try:
        with open(out.name, "rb") as file:
            started = time.perf_counter()
            upload = upload_members(segment, file, mode="replace", user=user, now=timezone.now())
            elapsed = time.perf_counter() - started
    finally:
        os.unlink(out.name)
    print(
        f"upload: {upload.lines:,} lines, {upload.added:,} added, "
        f"{upload.unmatched_count:,} unmatched in {elapsed:.1f} s"
    )
    return elapsed


def report(r: dict, *, full_size: bool) -> int:
    checks = [
        ("count within 1.5× psql", r["count (preview)"] <= 1.5 * r["psql count"]),
        ("first page within 1.5× psql", r["first page, stored"] <= 1.5 * r["psql first page"]),
        (f"page {r['deep page']} ≤ 500 ms", r["page N, stored"] <= 500),
    ]
    if r["upload"] is not None:
        checks.append(("500,000-line upload ≤ 30 s", r["upload"] <= 30))
    print(f"SQL segment: {r['members']:,} members")
    rows = [
        ("psql count", "psql count", None),
        ("count (preview: sandboxed count + first 20)", "count (preview)", "psql count"),
        ("evaluate (sandboxed run + store members)", "count (evaluate)", "psql count"),
        ("psql first page", "psql first page", None),
        ("first page, members stored (GET)", "first page, stored", "psql first page"),
        ("first page, evaluating first (GET)", "first page, evaluating", "psql first page"),
        (f"page {r['deep page']}, members stored (GET)", "page N, stored", None),
    ]
    for label, key, against in rows:
        ratio = f" ({r[key] / r[against]:.2f}×)" if against else ""
        print(f"  {label:<46} {r[key]:9.1f} ms{ratio}")
    if r["upload"] is not None:
        print(f"manual upload                                    {r['upload']:9.1f} s")
    for name, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    if not full_size:
        print("(goals are set for 1M customers; at this size fixed costs dominate)")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
