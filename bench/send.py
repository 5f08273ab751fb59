"""Sending benchmark (issue 6): run_automation end to end against the fake Resend.

    .venv/bin/python -m bench.send [--recipients 100000] [--paced-recipients 20000]
                                   [--rate 2] [--database-url postgresql://…/mos_bench_send]

Goals: 100,000 recipients against the fake with no rate limit at ≥ 2,000
recipients/s end to end (outbox, render, send, record) with the sending
process's peak memory ≤ 500 MB; 20,000 recipients at
RESEND_REQUESTS_PER_SECOND=2 against a fake enforcing 2 requests/s at
≥ 190 emails/s with zero 429s. The fake runs as its own process
(`python -m tests.fake_resend`), so its memory and CPU are not counted as
the sender's. Every recipient must be accepted exactly once. The database
name must contain "bench" (it is emptied and refilled). Prints figures and
the machine; exits 1 when a goal is missed.
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.database import check_bench_database, ensure_database
from bench.machine import describe_machine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench_send"
API_KEY = "re_bench_key"
MJML = (
    "<mjml><mj-body><mj-section><mj-column>"
    "<mj-text font-size='18px'>Hi {{ customer.first_name }},</mj-text>"
    "<mj-text>Your application for {{ customer.attributes.course | default: 'our MBA' }} "
    "is waiting. Finish it before the intake closes.</mj-text>"
    "<mj-button href='https://example.com/apply'>Finish my application</mj-button>"
    "<mj-text font-size='11px'><a href='{{ unsubscribe_url }}'>Unsubscribe</a></mj-text>"
    "</mj-column></mj-section></mj-body></mjml>"
)


def main() -> int:
    args = parse_args()
    check_bench_database(args.database_url)
    ensure_database(args.database_url)
    fill(args.database_url, args.recipients)
    print(describe_machine(args.database_url))
    free_port = _free_port()
    os.environ |= {
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "marketing_os.settings",
        "RESEND_API_KEY": API_KEY,
        "EMAIL_FROM": "Bench <bench@example.com>",
        "RESEND_API_URL": f"http://127.0.0.1:{free_port}",
    }
    import django

    django.setup()
    ok = unlimited(args, port=free_port)
    ok = paced(args, port=free_port) and ok
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--paced-recipients", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    return parser.parse_args()


def fill(url: str, customers: int) -> None:
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        if have == customers:
            print(f"data: reusing {customers:,} customers")
            return
        conn.execute("TRUNCATE customers, automations, customer_segments CASCADE")
        conn.execute(
            """INSERT INTO customers (id, lms_lead_id, first_name, last_name, email, mobile,
                                      created_date, updated_date)
               SELECT g, 'LMS-B-' || g, 'First' || (g %% 997), 'Last' || (g %% 1009),
                      'user' || g || '@example.com', '+91 9' || lpad(g::text, 9, '0'),
                      now(), now()
               FROM generate_series(1, %s) AS g""",
            [customers],
        )
        conn.execute(
            """INSERT INTO customer_attributes (customer_id, field_name, field_type, field_value)
               SELECT g, 'course', 'string', to_jsonb('MBA ' || (g %% 7)::text)
               FROM generate_series(1, %s) AS g""",
            [customers],
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), %s)", [customers])
    print(f"data: {customers:,} customers")


def unlimited(args: argparse.Namespace, *, port: int) -> bool:
    with fake_resend(port=port, rate=0):
        automation = make_automation(args.recipients, name="bench unlimited")
        seconds, run = timed_run(automation, rate=10_000)
        stats = fake_stats(port)
    per_second = run.accepted / seconds
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    exact = stats["recipients"] == args.recipients and stats["most_to_one_recipient"] == 1
    print(
        f"unlimited: {run.accepted:,} accepted of {args.recipients:,} in {seconds:.1f} s: "
        f"{per_second:,.0f} recipients/s (goal ≥ 2,000); peak memory {peak_mb:.0f} MB "
        f"(goal ≤ 500); exactly once at the fake: {exact}"
    )
    return per_second >= 2000 and peak_mb <= 500 and exact and run.status == "done"


def paced(args: argparse.Namespace, *, port: int) -> bool:
    with fake_resend(port=port, rate=args.rate):
        automation = make_automation(args.paced_recipients, name="bench paced")
        seconds, run = timed_run(automation, rate=args.rate)
        stats = fake_stats(port)
    per_second = run.accepted / seconds
    print(
        f"paced at {args.rate:g} requests/s: {run.accepted:,} accepted in {seconds:.1f} s: "
        f"{per_second:.1f} emails/s (goal ≥ 190); 429s: {stats['throttled']} (goal 0); "
        f"exactly once: {stats['most_to_one_recipient'] == 1}"
    )
    return per_second >= 190 and stats["throttled"] == 0 and run.status == "done"


def make_automation(members: int, *, name: str):
    from automations.models import Automation
    from segments.models import CustomerSegment
    from templates_app.models import MessageTemplate

    name = f"{name} {datetime.now(UTC):%Y-%m-%d %H:%M:%S.%f}"  # reruns reuse the database
    segment = CustomerSegment.objects.create(name=name, type=CustomerSegment.Type.MANUAL)
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute(
            """INSERT INTO customer_segment_customer_list (customer_segment_id, customer_id)
               SELECT %s, g FROM generate_series(1, %s) AS g""",
            [segment.pk, members],
        )
    template = MessageTemplate.objects.create(
        name=name, subject="{{ customer.first_name }}, one step left", message=MJML
    )
    return Automation.objects.create(
        name=name,
        customer_segment=segment,
        message_template=template,
        cron="0 9 * * *",
    )


def timed_run(automation, *, rate: float):
    from django.conf import settings

    from automations.runs import run_automation

    settings.RESEND_REQUESTS_PER_SECOND = rate
    started = time.monotonic()
    outcome = run_automation(automation.pk, now=datetime.now(UTC), scheduled=False)
    return time.monotonic() - started, outcome.run


class fake_resend:  # noqa: N801 (used as a context manager, like open)
    def __init__(self, *, port: int, rate: float, options: tuple[str, ...] = ()):
        self.command = [sys.executable, "-m", "tests.fake_resend", "--port", str(port)]
        self.command += ["--rate", str(rate), "--api-key", API_KEY, *options]
        self.port = port

    def __enter__(self):
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                fake_stats(self.port)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the fake Resend did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


def fake_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=5) as response:
        return json.load(response)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
