"""Faults benchmark (issue 8): a send that survives a flaky Resend, SIGKILL and a database outage.

    .venv/bin/python -m bench.faults [--recipients 10000] [--rate 2] [--failure-rate 0.3]
                                     [--seed 4] [--database-url postgresql://…/mos_bench_faults]

Every phase sends one new automation to the same N customers through the real
`scripts/run-automation.sh <id>` (cron's entry point) against the fake Resend
(`python -m tests.fake_resend`, its own process, a fresh one each phase,
enforcing the same `--rate` as RESEND_REQUESTS_PER_SECOND):

  a. baseline     no faults: the time reference;
  b. failures     the fake fails `--failure-rate` of calls in the realistic mix
                  (500, 503, 429 + Retry-After, resets and timeouts, some after
                  accepting the emails), seeded;
  c. sigkill      the same failures, the script's process group SIGKILLed once
                  the fake has accepted `--kill-at` of the recipients, then the
                  script started again (it resumes the run);
  d. db-outage    the same failures, the PostgreSQL server stopped (`pg_ctl stop
                  -m fast`) at `--kill-at` for `--outage` seconds and started again;
                  the run reconnects by itself;
  e. db-gone      the same, but the server stays down longer than the run's
                  RUN_DATABASE_RETRY_SECONDS (`--bound`): the run exits 69
                  unfinished; the server comes back and the script, started again,
                  resumes the run.

Each phase checks, from the fake's own log of accepted emails (`GET
/_accepted`), that every recipient was accepted exactly once, and reports wall
time, time lost against the baseline, calls, failures injected, replays,
accepted, duplicates and missing. Exits 0 only when every phase is exactly once.

The database: by default a PostgreSQL server of the bench's own (the pgserver
wheel's binaries, data in bench/out/faults-pgdata, 127.0.0.1 on a free port),
because phases d and e stop and start the server — never the machine's shared
one. A `--database-url` elsewhere runs phases a–c only. The database name must
contain "bench": its tables are emptied and refilled.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psycopg

from bench.database import ROOT, check_bench_database, ensure_database
from bench.machine import describe_machine
from bench.send import API_KEY, fake_resend, fill, make_automation

OUT = ROOT / "bench" / "out"
DATABASE = "mos_bench_faults"
SCRIPT = ROOT / "scripts" / "run-automation.sh"
CLIENT_TIMEOUT = 5.0  # RESEND_TIMEOUT_SECONDS of the runs; the fake's timeouts last longer
PHASE_TIMEOUT = 1800.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=2.0, help="RESEND_REQUESTS_PER_SECOND")
    parser.add_argument("--failure-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=4, help="which calls fail (repeatable)")
    parser.add_argument("--kill-at", type=float, default=0.4, help="share accepted at the fault")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the server is down (d)")
    parser.add_argument("--bound", type=float, default=5.0, help="RUN_DATABASE_RETRY_SECONDS (e)")
    parser.add_argument("--database-url", help="default: the bench's own server under bench/out/")
    return parser.parse_args()


# -- The bench's own PostgreSQL server ---------------------------------------------------------


class BenchPostgres:
    """A PostgreSQL server of the bench's own, which it may stop and start at will."""

    def __init__(self, data_dir: Path):
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # as marketing_os/db.py
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.data = data_dir
        self.user = "pgserver" if os.geteuid() == 0 else None  # postgres refuses to run as root
        self.port = 0

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if not self.port:
            self._prepare()
        options = f"-p {self.port} -h 127.0.0.1 -k {self.data}"
        log = self.data / "server.log"
        self._pg_ctl("-w", "-t", "60", "-l", str(log), "-o", options, "start")

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def _prepare(self) -> None:
        from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        self.data.mkdir(parents=True, exist_ok=True)
        if self.user:
            entry = ensure_user_exists(self.user)
            ensure_prefix_permissions(self.data)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        if (self.data / "postmaster.pid").exists():  # left running by an interrupted bench
            self._pg_ctl("-w", "-m", "fast", "stop", check=False)
        if not (self.data / "PG_VERSION").exists():
            command = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
            command += ["--auth=trust", "--encoding=UTF8"]
            subprocess.run(command, check=True, capture_output=True, user=self.user)
        self.port = free_port()

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        subprocess.run(command, check=check, capture_output=True, user=self.user, cwd="/")

    def version(self) -> str:
        done = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True)
        return done.stdout.decode().strip()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- Phases ------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    what: str
    seconds: float = 0.0
    exits: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    missing: int = 0
    run: tuple = ()
    log: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        return self.duplicates == 0 and self.missing == 0 and self.run[0] == "done"


class Bench:
    def __init__(self, args: argparse.Namespace, url: str, server: BenchPostgres | None):
        self.args, self.url, self.server = args, url, server
        self.expected = {f"user{g}@example.com" for g in range(1, args.recipients + 1)}

    def env(self, fake_port: int, **extra: str) -> dict:
        return os.environ | {
            "DATABASE_URL": self.url,
            "RESEND_API_URL": f"http://127.0.0.1:{fake_port}",
            "RESEND_API_KEY": API_KEY,
            "EMAIL_FROM": "Bench <bench@example.com>",
            "RESEND_REQUESTS_PER_SECOND": str(self.args.rate),
            "RESEND_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT),
            "LOG_FORMAT": "plain",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def fake_options(self, failures: bool) -> tuple[str, ...]:
        if not failures:
            return ()
        return (
            "--failure-rate",
            str(self.args.failure_rate),
            "--failure-mix",
            "realistic",
            "--seed",
            str(self.args.seed),
            "--retry-after",
            "1",
            "--timeout-seconds",
            str(CLIENT_TIMEOUT + 3),
        )

    def phase(self, name: str, what: str, *, failures: bool, fault=None, **env: str) -> Phase:
        """One automation sent through the script, with `fault(process, phase)` mid-run."""
        from django.db import connection

        phase = Phase(name, what)
        port = free_port()
        automation = make_automation(self.args.recipients, name=f"bench faults {name}")
        connection.close()  # the bench holds no session while the server goes away
        log_file = ROOT / "var" / "log" / f"automation-{automation.pk}.log"
        offset = log_file.stat().st_size if log_file.exists() else 0
        with fake_resend(port=port, rate=self.args.rate, options=self.fake_options(failures)):
            started = time.monotonic()
            process = start_script(automation.pk, self.env(port, **env))
            if fault:
                wait_until_accepted(port, self.args.kill_at * self.args.recipients, process)
                process = fault(process, phase, automation.pk, self.env(port))
            finish(process, phase, automation.pk, self.env(port))
            phase.seconds = time.monotonic() - started
            phase.stats = get_json(port, "/_stats")
            accepted = Counter(item["to"] for item in get_json(port, "/_accepted"))
        phase.accepted = len(accepted.keys() & self.expected)
        phase.duplicates = sum(n - 1 for n in accepted.values() if n > 1)
        phase.missing = len(self.expected - accepted.keys())
        phase.run = run_row(self.url, automation.pk)
        phase.log = notable_lines(log_file, offset)
        verdict = "exactly once" if phase.exactly_once else "NOT exactly once"
        print(f"phase {name}: {phase.seconds:.1f} s, {verdict}", flush=True)
        return phase

    def kill(self, process: subprocess.Popen, phase: Phase, automation_id: int, env: dict):
        os.killpg(process.pid, signal.SIGKILL)  # the script and its manage.py child
        process.wait()
        phase.exits.append("SIGKILL")
        return start_script(automation_id, env)  # what the next cron tick would do

    def outage(self, process: subprocess.Popen, phase: Phase, automation_id: int, env: dict):
        self.server.stop()
        time.sleep(self.args.outage)
        self.server.start()
        phase.exits.append(f"db down {self.args.outage:g} s")
        return process

    def gone(self, process: subprocess.Popen, phase: Phase, automation_id: int, env: dict):
        self.server.stop()
        try:
            process.wait(timeout=self.args.bound + 120)
        finally:
            self.server.start()
        phase.exits.append(str(process.returncode))
        return start_script(automation_id, env)


def start_script(automation_id: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCRIPT), str(automation_id)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so a SIGKILL takes its children too
    )


def wait_until_accepted(port: int, count: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + PHASE_TIMEOUT
    while get_json(port, "/_stats")["emails"] < count:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the run ended (exit {process.returncode}) before the fault")
        time.sleep(0.02)


def finish(process: subprocess.Popen, phase: Phase, automation_id: int, env: dict) -> None:
    """Wait for the script; an 'already running' (75) start is tried again, as cron would."""
    while True:
        code = process.wait(timeout=PHASE_TIMEOUT)
        phase.exits.append(str(code))
        if code != 75:
            return
        time.sleep(1)
        process = start_script(automation_id, env)


def get_json(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        return json.load(response)


def run_row(url: str, automation_id: int) -> tuple:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT status, accepted, failed, to_send FROM automation_runs "
            "WHERE automation_id = %s ORDER BY id DESC LIMIT 1",
            [automation_id],
        ).fetchone()
        runs = conn.execute(
            "SELECT count(*) FROM automation_runs WHERE automation_id = %s", [automation_id]
        ).fetchone()[0]
    return (*row, runs) if row else ("none", 0, 0, 0, runs)


NOTABLE = ("lost its database", "still unreachable", "database back", "stopped:", "exit ", "Run ")


def notable_lines(log_file: Path, offset: int) -> list[str]:
    if not log_file.exists():
        return []
    with log_file.open(errors="replace") as log:
        log.seek(offset)
        lines = [line.rstrip() for line in log if any(word in line for word in NOTABLE)]
    return [line if len(line) < 220 else line[:217] + "…" for line in lines]


# -- Main --------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    server = None
    if args.database_url:
        url = args.database_url
    else:
        server = BenchPostgres(OUT / "faults-pgdata")
        server.start()
        url = server.url(DATABASE)
    check_bench_database(url)
    try:
        return run(args, url, server)
    finally:
        if server:
            server.stop()


def run(args: argparse.Namespace, url: str, server: BenchPostgres | None) -> int:
    ensure_database(url)
    fill(url, args.recipients)
    with psycopg.connect(url) as conn:  # ids far from a developer's, for var/log and var/lock
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('automations', 'id'), "
            "greatest(900000, (SELECT coalesce(max(id), 0) FROM automations)))"
        )
    print(describe_machine(url))
    if server:
        print(f"server:     the bench's own, {server.version()}, data {server.data}, restartable")
    print(
        f"run:        {args.recipients:,} recipients, RESEND_REQUESTS_PER_SECOND={args.rate:g}, "
        f"failures {args.failure_rate:.0%} of calls (realistic mix, seed {args.seed}), "
        f"client timeout {CLIENT_TIMEOUT:g} s, faults at {args.kill_at:.0%} accepted",
        flush=True,
    )
    os.environ |= {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "marketing_os.settings"}
    import django

    django.setup()
    bench = Bench(args, url, server)
    phases = [
        bench.phase("a baseline", "no faults", failures=False),
        bench.phase("b failures", "failures only", failures=True),
        bench.phase("c sigkill", "failures + SIGKILL + resume", failures=True, fault=bench.kill),
    ]
    if server:
        phases.append(
            bench.phase(
                "d db-outage",
                f"failures + server down {args.outage:g} s, reconnect",
                failures=True,
                fault=bench.outage,
            )
        )
        phases.append(
            bench.phase(
                "e db-gone",
                f"failures + server down past the {args.bound:g} s bound, exit 69 + resume",
                failures=True,
                fault=bench.gone,
                RUN_DATABASE_RETRY_SECONDS=str(args.bound),
            )
        )
    else:
        where = urlparse(url)
        print(
            f"phases d, e skipped: they stop the server, and {where.hostname}:{where.port} "
            "is not the bench's own"
        )
    report(phases)
    return 0 if all(phase.exactly_once for phase in phases) else 1


def report(phases: list[Phase]) -> None:
    """The table: time lost against the baseline, and against failures alone (b) for the
    phases that add a kill or an outage to the same failures."""
    baseline, failures = phases[0].seconds, phases[1].seconds
    print()
    header = (
        f"{'phase':<12} {'wall s':>7} {'lost s':>7} {'vs b s':>7} {'calls':>6} {'failed':>6} "
        f"{'replays':>7} {'accepted':>8} {'dupes':>5} {'missing':>7}  {'exits':<16} run"
    )
    print(header)
    print("-" * len(header))
    for index, phase in enumerate(phases):
        stats = phase.stats
        status, accepted, failed, to_send, runs = phase.run
        versus_b = f"{phase.seconds - failures:>+7.1f}" if index >= 2 else f"{'':>7}"
        print(
            f"{phase.name:<12} {phase.seconds:>7.1f} {phase.seconds - baseline:>+7.1f} "
            f"{versus_b} {stats['requests']:>6} {stats['failures_injected']:>6} "
            f"{stats['replays']:>7} {phase.accepted:>8} {phase.duplicates:>5} "
            f"{phase.missing:>7}  {', '.join(phase.exits):<16} {status} {accepted}/{to_send}, "
            f"{failed} failed, {runs} run{'s' if runs > 1 else ''}"
        )
    print()
    for phase in phases:
        kinds = ", ".join(f"{kind} {n}" for kind, n in phase.stats["failures_by_kind"].items())
        verdict = "exactly once" if phase.exactly_once else "NOT EXACTLY ONCE"
        print(
            f"{phase.name}: {phase.what}; {verdict}; throttled by the rate limit: "
            f"{phase.stats['throttled']}; injected: {kinds or 'none'}"
        )
        for line in phase.log:
            print(f"    {line}")


if __name__ == "__main__":
    shutil.which("flock") or sys.exit("run-automation.sh needs flock (util-linux)")
    sys.exit(main())
