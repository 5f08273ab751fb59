"""What only real processes show: a run killed with SIGKILL, and two runs at once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from automations.models import Run
from marketing_os.background import database_url
from tests.automations.sending_factories import make_recipients, make_sending_automation

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


def start(automation_id: int, fake, *args: str) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": database_url(connection.settings_dict),
        "RESEND_API_URL": fake.url,
        "RESEND_API_KEY": fake.api_key,
        "EMAIL_FROM": "Your Next Campus <hello@example.com>",
        "RESEND_REQUESTS_PER_SECOND": "1000",
    }
    command = [sys.executable, str(REPO / "manage.py"), "run_automation", str(automation_id)]
    return subprocess.Popen(
        [*command, *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def wait_for(condition, *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_run_killed_mid_way_is_resumed_and_everyone_gets_exactly_one_email(fake_resend):
    automation = make_sending_automation(make_recipients(500))
    fake_resend.hang_seconds = 0.2  # every call takes a while: the kill lands mid-run
    first = start(automation.pk, fake_resend, "--now")
    wait_for(lambda: len(fake_resend.emails) >= 200)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    run = Run.objects.get(automation=automation)
    assert run.status == Run.Status.RUNNING and run.accepted < 500

    fake_resend.hang_seconds = 0
    second = start(automation.pk, fake_resend)  # a scheduled invocation resumes first
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err.decode()
    assert f"Run {run.pk} done: 500 members, 500 accepted" in out.decode()
    counts = fake_resend.accepted_by_recipient()
    assert len(counts) == 500 and set(counts.values()) == {1}
    assert Run.objects.filter(automation=automation).count() == 1


def test_a_second_run_while_the_first_sends_exits_at_once_as_already_running(fake_resend):
    automation = make_sending_automation(make_recipients(300))
    # Three calls of 4 s each: the first run is still sending while the second starts,
    # even when a busy machine takes seconds to start a Django process.
    fake_resend.hang_seconds = 4.0
    first = start(automation.pk, fake_resend, "--now")
    wait_for(lambda: Run.objects.filter(automation=automation, outbox_ready=True).exists())
    started = time.monotonic()
    second = start(automation.pk, fake_resend, "--now")
    _, err = second.communicate(timeout=30)
    assert second.returncode == 75
    assert err.decode().strip().endswith(f"Automation {automation.pk} is already running.")
    assert time.monotonic() - started < 10
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert Run.objects.filter(automation=automation).count() == 1
    assert set(fake_resend.accepted_by_recipient().values()) == {1}


def test_a_run_that_cannot_reach_its_database_exits_69_in_one_line_and_sends_nothing(fake_resend):
    automation = make_sending_automation(make_recipients(3))
    env = os.environ | {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",  # nothing listens there
        "RESEND_API_URL": fake_resend.url,
        "RESEND_API_KEY": fake_resend.api_key,
        "EMAIL_FROM": "Your Next Campus <hello@example.com>",
    }
    command = [sys.executable, str(REPO / "manage.py"), "run_automation", str(automation.pk)]
    done = subprocess.run([*command, "--now"], env=env, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 69
    assert "Traceback" not in done.stderr
    assert f"Automation {automation.pk}: database error (connection failed" in done.stderr
    assert "run it again to start or resume" in done.stderr
    assert fake_resend.accepted_by_recipient() == {}
    assert not Run.objects.filter(automation=automation).exists()
