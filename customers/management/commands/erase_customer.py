"""`manage.py erase_customer <lms_lead_id|id> [--by lms_lead_id|id] [--dry-run]`.

Erases a customer's personal data for a data-protection request (see
docs/audit.md). Exit codes: 0 erased, already erased, or a dry run; 1 no such
customer; 2 a bad command line (including a key that is one customer's
lms_lead_id and another's id: say which with --by).
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit.actors import command_actor
from customers.erasure import (
    AmbiguousCustomer,
    ErasureReport,
    UnknownCustomer,
    erase_customer,
    find_customer,
)
from customers.models import ErasedLead


class Command(BaseCommand):
    help = "Erase a customer's personal data (a data-protection request); keeps a tombstone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customer", help="the customer's lms_lead_id or id")
        parser.add_argument(
            "--by",
            choices=["auto", "lms_lead_id", "id"],
            default="auto",
            help="how to read CUSTOMER (default: an lms_lead_id, else an id)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would be removed, change nothing"
        )

    def handle(self, *args: object, customer: str, by: str, dry_run: bool, **options) -> None:
        key = customer.strip()
        if not key or "\x00" in key:
            raise CommandError("give a customer's lms_lead_id or id", returncode=2)
        try:
            found = find_customer(key, by=by)
        except UnknownCustomer as error:
            raise CommandError(str(error), returncode=1) from None
        except AmbiguousCustomer as error:
            raise CommandError(str(error), returncode=2) from None
        if isinstance(found, ErasedLead):
            self.stdout.write(f"Already erased (on {found.erased_at:%Y-%m-%d}); nothing to do.")
            return
        report = erase_customer(
            found, actor=command_actor("erase_customer"), now=timezone.now(), dry_run=dry_run
        )
        self.print_report(report)

    def print_report(self, report: ErasureReport) -> None:
        pk = report.customer_id
        if report.already_erased:
            self.stdout.write(f"Customer {pk} is already erased; nothing to do.")
            return
        if report.dry_run:
            self.stdout.write(f"Dry run: erasing customer {pk} would change:")
        else:
            self.stdout.write(f"Erased customer {pk} (its lms_lead_id is now erased-{pk}):")
        self.stdout.write("  personal data on the customer row: names, email, mobile, lms_lead_id")
        for what, rows in report.removed.items():
            self.stdout.write(f"  {what}: {rows}")
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        if report.dry_run:
            self.stdout.write("Nothing was changed.")
