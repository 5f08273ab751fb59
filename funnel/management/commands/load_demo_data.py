"""`manage.py load_demo_data [--customers N] [--seed S]`: a living demo database.

Lives in `funnel` because it loads customers and their funnel events, and
`customers` must not import `funnel`.
"""

import time
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from funnel.demo_data import DemoDataError, DemoSummary, load_demo_data


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise ArgumentTypeError("must be at least 1")
    return number


class Command(BaseCommand):
    help = (
        "Upsert demo customers (LMS-2026-000001 …) with typed attributes and sales and "
        "service-delivery funnel events. Safe to run again: customers and attributes are "
        "updated, and events are only added for customers that have none."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customers", type=positive_int, default=2000)
        parser.add_argument("--seed", type=int, default=2026, help="same seed, same people")

    def handle(self, *args, customers: int, seed: int, **options) -> None:
        started = time.monotonic()

        def progress(done: int, summary: DemoSummary) -> None:
            self.stdout.write(
                f"  {done:,}/{customers:,} customers, {summary.events_created:,} events"
            )

        try:
            summary = load_demo_data(customers, seed=seed, now=timezone.now(), progress=progress)
        except DemoDataError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"customers: created {summary.customers_created:,}, "
            f"updated {summary.customers_updated:,}; "
            f"attributes upserted {summary.attributes:,}; "
            f"events created {summary.events_created:,} "
            f"({summary.customers_kept_events:,} customers already had events, none added); "
            f"{time.monotonic() - started:.1f}s"
        )
