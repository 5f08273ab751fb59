"""Segment benchmarks (issue 3): an SQL segment's count and pages, a manual upload.

    .venv/bin/python -m bench.segments [--scale 1] [--upload-lines 500000]
                                       [--database-url postgresql://…/mos_bench_segments]

The goals, at full size (`--scale 1`: 1M customers, 5M attributes, 10M events,
built by `bench/data.py` when the database holds another size): an SQL
segment over attributes and events matching ~30% of the customers is counted,
and the first page of /segments/<id>/customers/ served, each within 1.5× of
running the same SQL directly with psql in the same run; page 1,000 of its
customers in ≤ 500 ms; a 500,000-line member CSV uploads in ≤ 30 s.

What is compared with what (docs/segments.md, "Benchmarks"):

- psql figures are psql's own `\\timing` (query sent to rows received), run
  between the app's measurements in the same run; best of three for counts (in
  rounds alternating with the app's), of five for pages;
- "count" that runs the SQL is the sandboxed count (what Preview runs: the
  SQL, its ids joined to customers, counted, first 20) against psql's
  `count(*)` of the same SQL. An evaluation (Re-evaluate, or a page whose
  stored members are stale) also stores the members: it is compared with psql
  doing the same `INSERT … SELECT`. The page shows the count the evaluation
  stored and never re-runs the SQL: that read is part of the page's time;
- pages are whole requests through Django's test Client (middleware, session,
  view, queries, template), logged in, best of five after a warm-up; the SQL
  they spend is printed too (Django's query log);
- the upload is a POST of the CSV to the segment's edit page (multipart
  parsing, the form, the COPY path, the count that follows), as a browser
  sends it; the body is encoded before the clock starts. Twice: into a new
  segment, then replacing that list with one that shares half of it.

The database is refilled when its size differs, so its name must contain
"bench". Prints the machine with the figures; exits 1 when a goal is missed.
"""

import argparse
import os
import re
import subprocess
import sys
import time

from bench.data import FULL, build
from bench.database import ensure_database
from bench.machine import describe_machine

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench_segments"
# Over attributes and events; matches 307,185 of the 1M customers bench/data.py makes.
SEGMENT_SQL = """SELECT a.customer_id
FROM customer_attributes AS a
WHERE a.field_name = 'intake_year'
  AND (a.field_value)::numeric >= 2027
  AND EXISTS (
    SELECT 1 FROM funnel_events AS e
    WHERE e.customer_id = a.customer_id
      AND e.funnel_type = 'sales' AND e.to_stage = 'counselling'
  )"""
PER_PAGE = 50
DEEP_PAGE = 1000
REPEAT = 3  # counts and evaluations (seconds each)
PAGE_REPEAT = 5  # pages (tens of milliseconds each, so noisier)
# The columns the customers page reads, in its order (CustomerTable over Customer).
PAGE_COLUMNS = "id, lms_lead_id, first_name, last_name, email, mobile, created_date, updated_date"
BOUNDARY = "BenchSegmentsBoundary"


def main() -> int:
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    ensure_database(args.database_url)
    print(describe_machine(args.database_url))
    ensure_data(args.database_url, args.scale)
    setup_django(args.database_url)
    results = measure(args)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average at the end: {load}")
    return report(results, full_size=args.scale >= 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1M/5M/10M rows")
    parser.add_argument("--upload-lines", type=int, default=500_000, help="0 skips the upload")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    return parser.parse_args()


def ensure_data(url: str, scale: float) -> None:
    import psycopg

    wanted = max(1, round(FULL["customers"] * scale))
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM funnel_events").fetchone()[0]
    if have == wanted and events == max(1, round(FULL["events"] * scale)):
        print(f"data:       reusing {have:,} customers, {events:,} events (bench/data.py)")
        return
    build(url, scale)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_os.settings")
    hosts = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["ALLOWED_HOSTS"] = f"{hosts},testserver"
    import django

    django.setup()
    from django.conf import settings

    print(f"django:     DEBUG {settings.DEBUG}, SEGMENT_SQL_ROLE {settings.SEGMENT_SQL_ROLE}")


def psql_times(url: str, statements: list[str]) -> list[float]:
    """psql's own `\\timing` of each statement (sent to all rows received), in ms."""
    script = "\\timing on\n" + "".join(f"{statement};\n" for statement in statements)
    done = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", url],
        input=script,
        capture_output=True,
        text=True,
    )
    times = [float(t) for t in re.findall(r"Time: ([\d.]+) ms", done.stdout + done.stderr)]
    if done.returncode or len(times) != len(statements):
        raise SystemExit(f"psql failed: {done.stderr}")
    return times


def psql_ms(url: str, sql: str, repeat: int = REPEAT) -> float:
    """Best of `repeat` runs of `sql` in one psql session."""
    return min(psql_times(url, [sql] * repeat))


def psql_store_ms(url: str, segment) -> float:
    """An evaluation done by psql itself: the SQL's members with their positions
    INSERTed by one `INSERT … SELECT` and the generation before last DELETEd, in a
    transaction rolled back after (the INSERT and DELETE times, summed)."""
    from segments.evaluation import POSITION

    generation = segment.members_generation
    insert = (
        "INSERT INTO customer_segment_members (segment_id, generation, customer_id, position) "
        f"SELECT {segment.pk}, {generation + 1000}, c.id, {POSITION} FROM customers AS c "
        f"WHERE c.id IN (SELECT s.customer_id FROM ({SEGMENT_SQL}) AS s (customer_id))"
    )
    delete = (
        f"DELETE FROM customer_segment_members WHERE segment_id = {segment.pk} "
        f"AND generation < {generation}"
    )
    begin, inserted, deleted, rollback = psql_times(url, ["BEGIN", insert, delete, "ROLLBACK"])
    return inserted + deleted


def timed(function, *args, repeat: int = REPEAT, **kwargs) -> tuple[float, object]:
    """Best wall time in ms of `repeat` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, (time.perf_counter() - started) * 1000)
    return best, result


def sql_ms(function, *args, **kwargs) -> tuple[float, int]:
    """(ms spent in SQL, number of queries) of one call, from Django's query log."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        function(*args, **kwargs)
    return sum(float(q["time"]) for q in queries.captured_queries) * 1000, len(queries)


def measure(args: argparse.Namespace) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from marketing_os.roles import MARKETER, set_role
    from segments.evaluation import evaluate_segment, preview_segment_sql
    from segments.models import CustomerSegment

    url = args.database_url
    r: dict = {}
    user, _ = get_user_model().objects.get_or_create(username="bench-segments")
    set_role(user, MARKETER)
    client = Client()
    client.force_login(user)
    CustomerSegment.objects.filter(name__startswith="bench ").delete()
    with connection.cursor() as cursor:  # what autovacuum does between runs
        cursor.execute("VACUUM ANALYZE customer_segment_members")
    segment = CustomerSegment.objects.create(
        name="bench sql segment", type="sql", selection_sql=SEGMENT_SQL
    )
    page_url = f"/segments/{segment.pk}/customers/"
    members_page = (
        f"SELECT {PAGE_COLUMNS} FROM customers WHERE id IN ({SEGMENT_SQL}) "
        "ORDER BY created_date DESC, id DESC"
    )

    # Rounds of psql, preview and evaluation one after the other, so each side sees
    # the same moments of the shared machine; the best round of each counts.
    count_sql = f"SELECT count(*) FROM ({SEGMENT_SQL}) AS s"
    rounds: dict[str, list[float]] = {"psql count": [], "preview": [], "evaluate": []}
    for _ in range(REPEAT):
        rounds["psql count"].append(psql_ms(url, count_sql, repeat=1))
        ms, preview = timed(lambda: preview_segment_sql(SEGMENT_SQL), repeat=1)
        rounds["preview"].append(ms)
        ms, evaluation = timed(lambda: evaluate_segment(segment, now=timezone.now()), repeat=1)
        rounds["evaluate"].append(ms)
    r |= {name: min(times) for name, times in rounds.items()}
    r["members"] = evaluation.count
    assert preview.count == evaluation.count, (preview.count, evaluation.count)
    r["psql store"] = min(psql_store_ms(url, segment) for _ in range(REPEAT))

    r["psql first page"] = psql_ms(url, f"{members_page} LIMIT {PER_PAGE}", PAGE_REPEAT)
    client.get(page_url)  # warm-up (evaluates if the stored members are stale)
    r["first page"], response = timed(client.get, page_url, repeat=PAGE_REPEAT)
    page = response.content.decode()
    assert response.status_code == 200, response.status_code
    assert f"{evaluation.count:,} results" in page or f"{evaluation.count} results" in page
    r["first page sql"] = sql_ms(client.get, page_url)

    def stale_first_page():
        CustomerSegment.objects.filter(pk=segment.pk).update(last_evaluated_date=None)
        return client.get(page_url)

    r["first page, evaluating"], response = timed(stale_first_page)
    assert response.status_code == 200

    r["deep page"] = min(DEEP_PAGE, max(1, -(-evaluation.count // PER_PAGE)))
    deep_offset = (r["deep page"] - 1) * PER_PAGE
    r["psql deep page"] = psql_ms(
        url, f"{members_page} LIMIT {PER_PAGE} OFFSET {deep_offset}", PAGE_REPEAT
    )
    client.get(page_url, {"page": r["deep page"]})
    r["page N"], response = timed(
        client.get, page_url, {"page": r["deep page"]}, repeat=PAGE_REPEAT
    )
    assert response.status_code == 200, response.status_code
    r["page N sql"] = sql_ms(client.get, page_url, {"page": r["deep page"]})
    r["upload"] = measure_upload(client, args.upload_lines) if args.upload_lines else None
    return r


def csv_body(lines: int, *, start: int = 0) -> bytes:
    """A member CSV of `lines` lines: 1% name nobody, the rest are customers from the
    `start`th on (cycling when there are fewer)."""
    from customers.models import Customer

    lead_ids = list(Customer.objects.order_by("pk").values_list("lms_lead_id", flat=True))
    rows = ["lms_lead_id"]
    rows += [
        lead_ids[(start + n) % len(lead_ids)] if n % 100 else f"NOBODY-{n}" for n in range(lines)
    ]
    return ("\n".join(rows) + "\n").encode()


def multipart(fields: dict[str, str], file_name: str, content: bytes) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="members_file"; '
        f'filename="{file_name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def measure_upload(client, lines: int) -> list[dict]:
    """POST `lines`-line CSVs to a manual segment's edit page, as its form sends them:
    into the new segment, then replacing that list with one that shares half of it."""
    from segments.models import CustomerSegment

    segment = CustomerSegment.objects.create(name="bench manual segment", type="manual")
    fields = {"name": segment.name, "type": "manual", "description": "", "upload_mode": "replace"}
    results = []
    for label, start in (("new list", 0), ("replace it", lines // 2)):
        body = multipart(fields, "members.csv", csv_body(lines, start=start))
        started = time.perf_counter()
        response = client.post(
            f"/segments/{segment.pk}/edit/",
            data=body,
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 302, (response.status_code, response.content[:2000])
        upload = segment.uploads.order_by("-pk").first()
        segment.refresh_from_db()
        assert upload.lines == lines, (upload.lines, lines)
        results.append(
            {
                "label": label,
                "seconds": elapsed,
                "megabytes": len(body) / 1e6,
                "lines": upload.lines,
                "added": upload.added,
                "unmatched": upload.unmatched_count,
                "members": segment.last_count,
            }
        )
    return results


def report(r: dict, *, full_size: bool) -> int:
    deep = r["deep page"]
    checks = [
        ("count (runs the SQL) within 1.5× psql count", r["preview"] <= 1.5 * r["psql count"]),
        ("first page within 1.5× psql first page", r["first page"] <= 1.5 * r["psql first page"]),
        (f"page {deep:,} ≤ 500 ms", r["page N"] <= 500),
    ]
    for upload in r["upload"] or []:
        name = f"{upload['lines']:,}-line upload ({upload['label']}) ≤ 30 s"
        checks.append((name, upload["seconds"] <= 30))
    print(f"SQL segment: {r['members']:,} members")
    rows = [
        ("psql count(*) of the SQL", "psql count", None),
        ("count: preview (sandboxed count + first 20)", "preview", "psql count"),
        ("psql evaluation (INSERT … SELECT, DELETE)", "psql store", None),
        ("evaluate (sandboxed run + store members)", "evaluate", "psql store"),
        ("psql first page (50 rows)", "psql first page", None),
        ("first page GET, stored count + members", "first page", "psql first page"),
        ("first page GET, stale: evaluates first", "first page, evaluating", "psql first page"),
        (f"psql page {deep:,} (OFFSET)", "psql deep page", None),
        (f"page {deep:,} GET, stored members", "page N", "psql deep page"),
    ]
    for label, key, against in rows:
        ratio = f" ({r[key] / r[against]:.2f}×)" if against else ""
        print(f"  {label:<50} {r[key]:9.1f} ms{ratio}")
    ratio = r["evaluate"] / r["psql count"]
    print(f"  evaluate against psql count(*): {ratio:.2f}× (it also writes the members)")
    for label, key in (("first page", "first page sql"), (f"page {deep:,}", "page N sql")):
        ms, queries = r[key]
        print(f"  {label} GET: {queries} queries, {ms:.1f} ms of them in SQL")
    for upload in r["upload"] or []:
        print(
            f"  upload POST, {upload['label']}: {upload['lines']:,} lines "
            f"({upload['megabytes']:.1f} MB), {upload['added']:,} added, "
            f"{upload['unmatched']:,} unmatched, {upload['members']:,} members, "
            f"{upload['seconds']:.1f} s"
        )
    for name, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    if not full_size:
        print("(the goals are set for the full size, --scale 1; smaller, fixed costs dominate)")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
