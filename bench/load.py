"""Load test of `make serve`: concurrent clients posting customers and events to gunicorn.

Starts `python -m marketing_os.serve` (DEBUG off, collectstatic, migrate,
gunicorn with `--workers` processes) on a free loopback port against a bench
database, creates an API key, then for `--duration` seconds each of `--clients`
client threads repeats: POST `--items` new customers to /api/v1/customers, then
one funnel event for each of them to /api/v1/funnel-events. It reports
requests/s, rows/s and p50/p99 latency per endpoint, and checks that no answer
was a 5xx and that the tables grew by exactly the rows the API said it stored.

    .venv/bin/python -m bench.load [--duration 60] [--clients 50] [--workers N]

Exit status 0 when those checks pass, 1 otherwise. The server's JSON log goes
to bench/out/load-server.log (writing it is part of the measured cost).
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.database import ROOT, connect, ensure_database, manage, manage_env
from bench.machine import describe_machine
from bench.search import percentile
from funnel.journeys import SALES

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench_load"
LOG = ROOT / "bench" / "out" / "load-server.log"
TABLES = ("customers", "funnel_events")


@dataclass
class Tally:
    """What one client saw; merged at the end (no lock on the hot path)."""

    statuses: Counter = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PATHS})
    stored: Counter = field(default_factory=Counter)
    bad: list = field(default_factory=list)


PATHS = {"customers": "/api/v1/customers", "funnel_events": "/api/v1/funnel-events"}


def post(port: int, key: str, path: str, items: list[dict]) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        connection.request("POST", path, body=json.dumps(items), headers=headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    return response.status, answer, (time.perf_counter() - started) * 1000


def customers_batch(run: str, client: int, round_: int, items: int) -> list[dict]:
    return [
        {
            "lms_lead_id": f"load-{run}-{client}-{round_}-{n}",
            "first_name": "Load",
            "last_name": f"Client{client}",
            "email": f"load.{run}.{client}.{round_}.{n}@example.com",
        }
        for n in range(items)
    ]


def events_for(customers: list[dict], now: str) -> list[dict]:
    return [
        {
            "lms_lead_id": customer["lms_lead_id"],
            "funnel_type": SALES.funnel_type,
            "from_stage": None,
            "to_stage": SALES.stages[0],
            "created_date": now,
        }
        for customer in customers
    ]


def send(tally: Tally, port: int, key: str, table: str, items: list[dict]) -> bool:
    status, answer, ms = post(port, key, PATHS[table], items)
    tally.statuses[(table, status)] += 1
    tally.latencies[table].append(ms)
    if status in (200, 201):
        body = json.loads(answer)
        # The API's own count of rows it stored: created (and, for customers, updated).
        tally.stored[table] += body.get("created", 0)
        return True
    if len(tally.bad) < 3:
        tally.bad.append((table, status, answer[:300]))
    return False


def client(tally: Tally, number: int, *, port: int, key: str, run: str, options, stop: float):
    round_ = 0
    while time.monotonic() < stop:
        batch = customers_batch(run, number, round_, options.items)
        if send(tally, port, key, "customers", batch):
            now = datetime.now(UTC).isoformat()
            send(tally, port, key, "funnel_events", events_for(batch, now))
        round_ += 1


def counts(url: str) -> dict[str, int]:
    with connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    """`make serve` (python -m marketing_os.serve) with a throwaway key, plain HTTP."""
    env = manage_env(url) | {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # no TLS proxy in front on loopback
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "marketing_os.serve"], cwd=ROOT, env=env, stderr=log
        )
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"make serve did not start; see {LOG}") from None
            time.sleep(0.25)
    server.terminate()
    raise SystemExit(f"make serve did not answer /healthz; see {LOG}")


def run_clients(port: int, key: str, options) -> tuple[float, Tally]:
    run = secrets.token_hex(3)
    tallies = [Tally() for _ in range(options.clients)]
    stop = time.monotonic() + options.duration
    threads = [
        threading.Thread(
            target=client,
            args=(tally, number),
            kwargs={"port": port, "key": key, "run": run, "options": options, "stop": stop},
        )
        for number, tally in enumerate(tallies)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, merge(tallies)


def merge(tallies: list[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.statuses += tally.statuses
        total.stored += tally.stored
        total.bad += tally.bad[: 3 - len(total.bad)]
        for table, values in tally.latencies.items():
            total.latencies[table] += values
    return total


def report(seconds: float, tally: Tally, grown: dict[str, int], options) -> bool:
    requests = sum(tally.statuses.values())
    print(
        f"load: {options.clients} clients × {seconds:.1f} s, {options.items} items a request, "
        f"gunicorn {options.workers} workers"
    )
    print(f"requests: {requests:,} = {requests / seconds:,.1f} requests/s")
    for table, values in tally.latencies.items():
        if values:
            print(
                f"  {PATHS[table]}: {len(values):,} requests, "
                f"{tally.stored[table] / seconds:,.1f} rows/s, "
                f"p50 {statistics.median(values):.0f} ms, p99 {percentile(values, 0.99):.0f} ms, "
                f"max {max(values):.0f} ms"
            )
    print(f"statuses: {dict(sorted((f'{t} {s}', n) for (t, s), n in tally.statuses.items()))}")
    for table, status, answer in tally.bad:
        print(f"  unexpected {status} from {PATHS[table]}: {answer!r}")
    server_errors = sum(n for (_, status), n in tally.statuses.items() if status >= 500)
    print(f"5xx answers: {server_errors}")
    exact = True
    for table in TABLES:
        match = grown[table] == tally.stored[table]
        exact &= match
        print(
            f"{table}: {grown[table]:,} rows added, the API reported {tally.stored[table]:,} "
            f"stored — {'exact' if match else 'MISMATCH'}"
        )
    ok = server_errors == 0 and exact and requests > 0
    print("checks passed" if ok else "CHECKS FAILED")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (60)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--items", type=int, default=10, help="customers (and events) a request")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers"
    )
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    url = options.database_url
    ensure_database(url)  # refuses a database whose name lacks "bench"
    print(describe_machine(url))
    # A limit far above what 50 clients can send: the rate counter runs, as in production,
    # without refusing the load (the default 600 a minute would turn most posts into 429s).
    key = (
        manage("create_api_key", f"load-{int(time.time())}", "--rate-limit", "1000000", url=url)
        .strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = start_server(url, port, options.workers)
    try:
        before = counts(url)
        seconds, tally = run_clients(port, key, options)
        after = counts(url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    grown = {table: after[table] - before[table] for table in TABLES}
    sys.exit(0 if report(seconds, tally, grown, options) else 1)


if __name__ == "__main__":
    main()
