"""scripts/run-automation.sh: what cron calls, run under cron's minimal environment."""

import fcntl
import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from marketing_os.background import database_url

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "run-automation.sh"
AUTOMATION_ID = 987_654_321  # far from any real id: its log and lock are removed afterwards


@pytest.fixture
def files():
    log = REPO / "var" / "log" / f"automation-{AUTOMATION_ID}.log"
    lock = REPO / "var" / "lock" / f"automation-{AUTOMATION_ID}.lock"
    yield log, lock
    log.unlink(missing_ok=True)
    lock.unlink(missing_ok=True)


def run_like_cron(*args: str, database_url: str = "") -> subprocess.CompletedProcess:
    """The script with cron's environment: no PATH beyond /usr/bin:/bin, another cwd."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "SHELL": "/bin/sh", "LOGNAME": "cron"}
    database_url = database_url or os.environ.get("DATABASE_URL", "")
    if database_url:
        env["DATABASE_URL"] = database_url  # in production it comes from .env
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, env=env, cwd="/", timeout=120
    )


@pytest.mark.django_db
def test_it_runs_the_command_and_passes_on_its_exit_status(files):
    log, _ = files

    done = run_like_cron(str(AUTOMATION_ID), database_url=database_url(connection.settings_dict))

    assert done.returncode == 1
    text = log.read_text()
    assert f"automation {AUTOMATION_ID}: start" in text
    assert f"There is no automation with id {AUTOMATION_ID}." in text
    assert f"automation {AUTOMATION_ID}: exit {done.returncode}" in text


def test_it_refuses_a_second_concurrent_run(files):
    log, lock = files
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the first run holds it

        done = run_like_cron(str(AUTOMATION_ID))

    assert done.returncode == 75
    assert "already running" in done.stderr
    assert "already running; this start was refused" in log.read_text()
    assert "start (pid" not in log.read_text()


@pytest.mark.parametrize("args", [(), ("12; rm -rf /",), ("1", "2"), ("-1",)])
def test_it_refuses_anything_but_one_automation_id(args):
    done = run_like_cron(*args)

    assert done.returncode == 64
    assert "usage" in done.stderr
