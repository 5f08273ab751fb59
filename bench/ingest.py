"""CSV import speed: `manage.py import_csv` against a raw PostgreSQL COPY of the same files.

Writes 1M customers and 5M attributes (at `--scale 1`) as CSV under bench/out/
(kept between runs), empties the bench tables, then times
`import_csv customers FILE` and `import_csv attributes FILE` as child
processes (wall time and the child's peak RSS), and a client-side `COPY … FROM
STDIN` of the same files into empty scratch tables of text columns (the
floor the goal is measured against). It also COPYs the customers into an empty
table shaped like `customers` — its indexes and generated search column — to
show how much of the import is the database's own work. `--copy-only` stops
there. Goals: the customers import takes at most 3× the COPY time; peak memory ≤ 300 MB.

    .venv/bin/python -m bench.ingest [--scale 0.01] [--database-url URL]
"""

import csv
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.data import arguments
from bench.database import ROOT, connect, ensure_database, manage_env
from bench.machine import describe_machine
from customers.demo_data import CITIES, COURSES, FIRST_NAMES, INTERESTS, LAST_NAMES

OUT = ROOT / "bench" / "out"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench_ingest"
CUSTOMERS = 1_000_000
ATTRIBUTES_PER_CUSTOMER = 5
GOAL_RATIO, GOAL_RSS_MB = 3.0, 300
SCRATCH = {
    "customers": "lms_lead_id text, first_name text, last_name text, email text, mobile text",
    "attributes": "lms_lead_id text, field_name text, field_type text, field_value text",
}


@dataclass
class Timing:
    rows: int
    seconds: float
    peak_rss_mb: float = 0.0
    summary: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def lead_id(serial: int) -> str:
    return f"LMS-I-{serial:07d}"


def customer_rows(count: int, rng: random.Random):
    for serial in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}{serial}@gmail.com".lower().replace("'", "")
        mobile = f"+91 9{rng.randrange(10**4):04d} {rng.randrange(10**5):05d}"
        yield lead_id(serial), first, last, email, mobile


def attribute_rows(count: int, rng: random.Random, *, now: datetime):
    """Five a customer, every type among them (the last two slots rotate)."""
    cities = [city for city, weight in CITIES.items() for _ in range(weight)]
    courses = [course for course, weight in COURSES.items() for _ in range(weight)]
    for serial in range(1, count + 1):
        lms = lead_id(serial)
        yield lms, "city", "string", rng.choice(cities)
        yield lms, "course", "string", rng.choice(courses)
        yield lms, "intake_year", "numeric", str(rng.choice((2026, 2027, 2028)))
        if serial % 2:
            yield lms, "scholarship", "boolean", rng.choice(("true", "false"))
        else:
            yield lms, "budget", "numeric", str(rng.randrange(50_000, 2_500_000, 5_000))
        kind = serial % 3
        if kind == 0:
            yield lms, "interests", "array", json.dumps(rng.sample(INTERESTS, 2))
        elif kind == 1:
            day = now - timedelta(days=rng.randrange(700))
            yield lms, "application_date", "date", day.date().isoformat()
        else:
            moment = now - timedelta(seconds=rng.randrange(60_000_000))
            yield lms, "last_login", "timestamp", moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    """Write `rows` to `path` unless a complete file is already there."""
    if path.exists():
        return
    partial = path.with_suffix(".part")
    with open(partial, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    partial.rename(path)


def make_files(customers: int) -> tuple[Path, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    people = OUT / f"customers-{customers}.csv"
    attributes = OUT / f"attributes-{customers * ATTRIBUTES_PER_CUSTOMER}.csv"
    now = datetime(2026, 11, 24, tzinfo=UTC)  # fixed: the same files every time
    header = ("lms_lead_id", "first_name", "last_name", "email", "mobile")
    write_csv(people, header, customer_rows(customers, random.Random(1)))
    header = ("lms_lead_id", "field_name", "field_type", "field_value")
    write_csv(attributes, header, attribute_rows(customers, random.Random(2), now=now))
    for path in (people, attributes):
        print(f"file {path.relative_to(ROOT)}: {path.stat().st_size / 2**20:,.0f} MiB")
    print(f"files ready in {time.monotonic() - started:.1f} s")
    return people, attributes


def empty_tables(url: str) -> None:
    with connect(url) as conn:
        conn.execute("TRUNCATE customers, customer_attributes, funnel_events CASCADE")


def time_import(url: str, kind: str, path: Path, rows: int) -> Timing:
    """Run `import_csv` as a child; its own rusage gives its peak RSS."""
    command = [sys.executable, str(ROOT / "manage.py"), "import_csv", kind, str(path)]
    log = OUT / f"import_csv-{kind}.log"
    started = time.monotonic()
    with open(log, "wb") as output:  # a file, not a pipe: the child never blocks on us
        child = subprocess.Popen(
            command, cwd=ROOT, env=manage_env(url), stdout=output, stderr=subprocess.STDOUT
        )
        # wait4, not wait(): it returns this child's own resource usage
        _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = log.read_text(errors="replace").strip().splitlines()
    if child.returncode:
        tail = "\n".join(lines[-20:])
        raise SystemExit(f"import_csv {kind} failed (exit {child.returncode}), {log}:\n{tail}")
    timing = Timing(rows, elapsed, usage.ru_maxrss / 1024, lines[-1] if lines else "")
    print(f"import_csv {kind}: {rows:,} rows in {elapsed:.1f} s", flush=True)
    return timing


def time_copy(url: str, kind: str, path: Path, rows: int) -> Timing:
    """COPY the file as it is into an empty table of text columns (the floor)."""
    table = f"bench_copy_{kind}"
    with connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} ({SCRATCH[kind]})")
        started = time.monotonic()
        with conn.cursor() as cursor, open(path, "rb") as source:
            with cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
        elapsed = time.monotonic() - started
        conn.execute(f"DROP TABLE {table}")
    print(
        f"COPY {kind}: {rows:,} rows in {elapsed:.1f} s, {rows / elapsed:,.0f} rows/s", flush=True
    )
    return Timing(rows, elapsed)


def time_copy_into_table_shape(url: str, path: Path, rows: int, *, search_index: bool) -> Timing:
    """COPY customers into an empty table shaped like `customers` (its indexes and
    generated search column; without its GIN search index if `search_index` is
    false): the database's own share of an import."""
    columns = "lms_lead_id, first_name, last_name, email, mobile"
    with connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_customers_shaped")
        conn.execute("CREATE TABLE bench_copy_customers_shaped (LIKE customers INCLUDING ALL)")
        if not search_index:
            (index,) = conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'bench_copy_customers_shaped' "
                "AND indexdef LIKE '%USING gin%'"
            ).fetchone()
            conn.execute(f'DROP INDEX "{index}"')
        started = time.monotonic()
        with conn.cursor() as cursor, open(path, "rb") as source:
            statement = (
                f"COPY bench_copy_customers_shaped ({columns}) FROM STDIN (FORMAT csv, HEADER true)"
            )
            with cursor.copy(statement) as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
        elapsed = time.monotonic() - started
        conn.execute("DROP TABLE bench_copy_customers_shaped")
    without = "" if search_index else " without its GIN search index"
    print(
        f"COPY customers into a table shaped like customers{without}: "
        f"{elapsed:.1f} s, {rows / elapsed:,.0f} rows/s",
        flush=True,
    )
    return Timing(rows, elapsed)


def report(kind: str, imported: Timing, copied: Timing, shaped: Timing | None = None) -> list[str]:
    ratio = imported.seconds / copied.seconds
    print(
        f"{kind:<11} {imported.rows:>10,} rows | import_csv {imported.seconds:7.1f} s "
        f"{imported.rate:>9,.0f} rows/s peak RSS {imported.peak_rss_mb:5.0f} MB | "
        f"COPY {copied.seconds:6.1f} s {copied.rate:>10,.0f} rows/s | ratio {ratio:4.1f}×"
    )
    if shaped:
        print(
            f"{'':<11} against COPY into the shaped table ({shaped.seconds:.1f} s): "
            f"{imported.seconds / shaped.seconds:.2f}×"
        )
    print(f"{'':<11} import_csv said: {imported.summary}")
    misses = []
    if kind == "customers" and ratio > GOAL_RATIO:
        misses.append(f"customers import {ratio:.1f}× COPY (goal ≤ {GOAL_RATIO:g}×)")
    if imported.peak_rss_mb > GOAL_RSS_MB:
        misses.append(f"{kind} peak RSS {imported.peak_rss_mb:.0f} MB (goal ≤ {GOAL_RSS_MB} MB)")
    return misses


def main() -> None:
    parser = arguments(__doc__.split("\n\n")[0])
    parser.set_defaults(database_url=DEFAULT_URL)
    parser.add_argument("--copy-only", action="store_true", help="measure the COPY floors only")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    url, customers = options.database_url, max(1, round(CUSTOMERS * options.scale))
    ensure_database(url)
    print(describe_machine(url))
    people, attributes = make_files(customers)
    rows = {"customers": customers, "attributes": customers * ATTRIBUTES_PER_CUSTOMER}
    copied = {
        "customers": time_copy(url, "customers", people, rows["customers"]),
        "attributes": time_copy(url, "attributes", attributes, rows["attributes"]),
    }
    shaped = time_copy_into_table_shape(url, people, rows["customers"], search_index=True)
    time_copy_into_table_shape(url, people, rows["customers"], search_index=False)
    if options.copy_only:
        return
    empty_tables(url)
    imported = {
        "customers": time_import(url, "customers", people, rows["customers"]),
        "attributes": time_import(url, "attributes", attributes, rows["attributes"]),
    }
    print()
    misses = report("customers", imported["customers"], copied["customers"], shaped)
    misses += report("attributes", imported["attributes"], copied["attributes"])
    print("goals met" if not misses else "MISSED: " + "; ".join(misses))
    raise SystemExit(1 if misses else 0)


if __name__ == "__main__":
    main()
