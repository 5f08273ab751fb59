import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from audit.actors import Actor, acting_as, command_actor, user_actor
from automations.models import Run
from automations.runs import DatabaseLost, Refused, one_line, run_automation

PROGRESS_EVERY_SECONDS = 5.0


class Command(BaseCommand):
    help = "Send an automation's template to its segment through Resend (CONTRACT §8)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("automation_id", type=int)
        parser.add_argument("--dry-run", action="store_true", help="render, send nothing")
        parser.add_argument("--now", action="store_true", help="an unscheduled run")
        parser.add_argument("--force", action="store_true", help="run even if inactive")
        parser.add_argument(
            "--requested-by",
            type=int,
            metavar="USER_ID",
            help="the user who pressed Run now (the audit trail names them, not the system)",
        )

    def handle(self, *args, automation_id: int, dry_run: bool, now: bool, force: bool, **options):
        progress = Progress(self.stdout.write)
        try:
            with acting_as(self.actor(options["requested_by"])):
                outcome = run_automation(
                    automation_id,
                    now=timezone.now(),
                    scheduled=not now,
                    dry_run=dry_run,
                    force=force,
                    progress=progress,
                )
        except Refused as refused:
            raise CommandError(str(refused), returncode=refused.exit_code) from None
        except (OperationalError, InterfaceError) as error:
            # Lost before the send loop (which reconnects itself) or not a lost connection:
            # nothing unrecorded was sent, and the next invocation starts or resumes the run.
            raise CommandError(
                f"Automation {automation_id}: database error ({one_line(error)}). "
                f"Nothing was sent that is not recorded; run it again to start or resume.",
                returncode=DatabaseLost.exit_code,
            ) from None
        self.stdout.write(outcome.message)
        if outcome.sample:
            self.stdout.write(f"Sample subject: {outcome.sample.subject}")
            self.stdout.write(f"Sample text:\n{outcome.sample.text}")
        if outcome.exit_code:
            raise CommandError(outcome.message, returncode=outcome.exit_code)

    def actor(self, user_id: int | None) -> Actor:
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        return user_actor(user) if user else command_actor("run_automation")


class Progress:
    """A line every few seconds: sent / total, rate, ETA."""

    def __init__(self, write, *, every: float = PROGRESS_EVERY_SECONDS):
        self.write = write
        self.every = every
        self.started = time.monotonic()
        self.first_done: int | None = None
        self.last = self.started

    def __call__(self, run: Run) -> None:
        now = time.monotonic()
        if self.first_done is None:  # a resumed run: rate counts this process's sends only
            self.first_done = run.done_count
        if now - self.last < self.every:
            return
        self.last = now
        rate = (run.done_count - self.first_done) / max(now - self.started, 1e-9)
        left = run.to_send - run.done_count
        eta = f"{left / rate:.0f} s" if rate else "unknown"
        self.write(
            f"sent {run.done_count}/{run.to_send} ({run.failed} failed), "
            f"{rate:.0f} emails/s, ETA {eta}"
        )
