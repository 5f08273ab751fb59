from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from automations.management.commands.run_automation import Progress
from automations.models import Run
from tests.automations.sending_factories import make_recipients, make_sending_automation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast(fake_resend, settings):
    settings.RESEND_REQUESTS_PER_SECOND = 10_000


def run_command(*args) -> str:
    out = StringIO()
    call_command("run_automation", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_it_sends_and_prints_a_summary(fake_resend):
    automation = make_sending_automation(make_recipients(3))
    output = run_command(automation.pk, "--now")
    assert f"Run {automation.runs.get().pk} done: 3 members, 3 accepted, 0 failed" in output
    assert len(fake_resend.emails) == 3


def test_a_refusal_is_one_line_and_a_non_zero_exit():
    with pytest.raises(CommandError) as raised:
        run_command(424242)
    assert str(raised.value) == "There is no automation with id 424242."
    assert raised.value.returncode == 1


def test_a_failed_send_exits_non_zero(fake_resend):
    customers = make_recipients(2)
    fake_resend.reject = {customers[0].email}
    with pytest.raises(CommandError, match="1 failed") as raised:
        run_command(make_sending_automation(customers).pk, "--now")
    assert raised.value.returncode == 1


def test_a_dry_run_prints_counts_and_one_rendered_sample(fake_resend):
    customers = make_recipients(2)
    output = run_command(make_sending_automation(customers).pk, "--dry-run")
    assert "2 members, 2 would be sent, 0 skipped. Nothing was sent." in output
    assert f"Sample subject: Hello {customers[0].first_name}" in output
    assert fake_resend.calls == [] and Run.objects.count() == 0


def test_progress_lines_say_sent_total_rate_and_eta():
    lines = []
    progress = Progress(lines.append, every=0)
    run = Run(to_send=300, accepted=100, failed=0)
    progress(run)
    run.accepted = 200
    progress(run)
    assert lines[-1].startswith("sent 200/300 (0 failed), ")
    assert "emails/s, ETA" in lines[-1]
