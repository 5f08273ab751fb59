"""Funnel-event API throughput and latency over real HTTP.

Starts bench/server.py (pre-forked stdlib WSGI server) on a free loopback
port against a bench database (filled by bench/data.py when it has fewer
customers than the scale asks for), creates an API key with
`manage.py create_api_key`, then

- posts `--batches` JSON arrays of 1,000 events from `--clients` client threads
  (goal ≥ 20,000 events/s), and
- posts `--singles` one-event requests one after another (p50/p99 latency).

    .venv/bin/python -m bench.api [--scale 0.01] [--database-url URL]
"""

import http.client
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from queue import Empty, SimpleQueue

from bench.data import FULL, LEAD_ID_PREFIX, arguments, build
from bench.database import ROOT, connect, ensure_database, manage, manage_env
from bench.machine import describe_machine
from bench.search import percentile
from funnel.journeys import SALES, SERVICE_DELIVERY

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench_api"
PATH = "/api/v1/funnel-events"
BATCH = 1000
GOAL_EVENTS_PER_SECOND = 20_000


def random_event(rng: random.Random, customers: int, now: datetime) -> dict:
    funnel = SALES if rng.random() < 0.7 else SERVICE_DELIVERY
    step = rng.randrange(len(funnel.stages))
    return {
        "lms_lead_id": f"{LEAD_ID_PREFIX}{rng.randint(1, customers):07d}",
        "funnel_type": funnel.funnel_type,
        "from_stage": funnel.stages[step - 1] if step else None,
        "to_stage": funnel.stages[step],
        "created_date": (now - timedelta(seconds=rng.randrange(86_400))).isoformat(),
    }


def bodies(count: int, size: int, customers: int) -> list[bytes]:
    """Request bodies made up front, so the clients only send."""
    rng, now = random.Random(7), datetime.now(UTC)
    return [
        json.dumps([random_event(rng, customers, now) for _ in range(size)]).encode()
        for _ in range(count)
    ]


def post(port: int, key: str, body: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        connection.request("POST", PATH, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post_all(port: int, key: str, work: list[bytes], clients: int) -> tuple[float, dict, list]:
    """Send every body from `clients` threads; (seconds, status counts, bad answers)."""
    queue: SimpleQueue = SimpleQueue()
    for body in work:
        queue.put(body)
    statuses: dict[int, int] = {}
    bad: list = []
    lock = threading.Lock()

    def client() -> None:
        while True:
            try:
                body = queue.get_nowait()
            except Empty:
                return
            status, answer = post(port, key, body)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status != 201 and len(bad) < 3:
                    bad.append((status, answer[:300]))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, statuses, bad


def single_latencies(port: int, key: str, work: list[bytes]) -> tuple[list[float], dict]:
    timings, statuses = [], {}
    for body in work:
        started = time.perf_counter()
        status, _ = post(port, key, body)
        timings.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    return timings, statuses


def start_server(url: str, processes: int, threads: int) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, "-m", "bench.server", "--processes", str(processes)]
    server = subprocess.Popen(
        [*command, "--threads", str(threads)],
        cwd=ROOT,
        env=manage_env(url),
        stdout=subprocess.PIPE,
        text=True,
    )
    line = server.stdout.readline()
    if not line.startswith("listening on "):
        server.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return server, int(line.split()[-1])


def event_count(url: str) -> int:
    with connect(url) as conn:
        return conn.execute("SELECT count(*) FROM funnel_events").fetchone()[0]


def main() -> None:
    parser = arguments(__doc__.split("\n\n")[0])
    parser.set_defaults(database_url=DEFAULT_URL, scale=0.01)
    parser.add_argument("--batches", type=int, default=100, help="of 1,000 events (100)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (4)")
    parser.add_argument("--singles", type=int, default=500, help="one-event requests (500)")
    parser.add_argument("--processes", type=int, default=2, help="server processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads a process (4)")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=1_000_000_000,
        help="the key's limit a minute: counted but never reached by default; 0 skips the "
        "rate counter (to measure its cost)",
    )
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    url = options.database_url
    ensure_database(url)
    customers = round(FULL["customers"] * options.scale)
    with connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    if have < customers:
        build(url, options.scale)
    print(describe_machine(url))
    name, limit = f"bench-{int(time.time())}", str(options.rate_limit)
    key = manage("create_api_key", name, "--rate-limit", limit, url=url).strip().splitlines()[-1]
    batches = bodies(options.batches, BATCH, customers)
    singles = bodies(options.singles, 1, customers)
    server, port = start_server(url, options.processes, options.threads)
    try:
        report(url, port, key, batches, singles, options)
    finally:
        server.terminate()
        server.wait(timeout=30)


def report(url: str, port: int, key: str, batches: list, singles: list, options) -> None:
    print(
        f"server: bench/server.py, {options.processes} processes × {options.threads} threads, "
        f"port {port}; clients: {options.clients} threads; key rate limit "
        f"{options.rate_limit or 'none (not counted)'}"
    )
    before = event_count(url)
    post_all(port, key, batches[:2], 2)  # warm-up: imports, connections, caches
    seconds, statuses, bad = post_all(port, key, batches[2:], options.clients)
    sent = (len(batches) - 2) * BATCH
    rate = sent / seconds
    print(
        f"batches: {len(batches) - 2} × {BATCH} events in {seconds:.2f} s = {rate:,.0f} events/s "
        f"(goal ≥ {GOAL_EVENTS_PER_SECOND:,}); statuses {statuses}"
    )
    for status, answer in bad:
        print(f"  unexpected {status}: {answer!r}")
    timings, statuses = single_latencies(port, key, singles)
    print(
        f"single posts: {len(timings)} sequential, p50 {statistics.median(timings):.1f} ms, "
        f"p99 {percentile(timings, 0.99):.1f} ms, max {max(timings):.1f} ms; statuses {statuses}"
    )
    stored = event_count(url) - before
    print(
        f"events stored during the run: {stored:,} (sent {len(batches) * BATCH + len(singles):,})"
    )
    ok = rate >= GOAL_EVENTS_PER_SECOND and set(statuses) == {201}
    print("goal met" if ok else "MISSED the goal (or errors above)")


if __name__ == "__main__":
    main()
