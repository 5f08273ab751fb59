"""Erasing a customer's personal data (a data-protection request): `erase_customer`.

The customer row stays as an anonymous tombstone: names, email and mobile
become NULL, `lms_lead_id` becomes `erased-<id>` (unique, like every id), and
`erased_at` is set. Funnel events (immutable) and delivery counts stay, now
about nobody. Attributes are deleted. Every other place the app keeps their
data is scrubbed in the same transaction: this module's own tables here, and
later apps' through `ERASERS`, which they fill from `AppConfig.ready()`
(customers imports no other app). The audit trail gets one entry with counts
only; the lms_lead_id is kept as a keyed hash (`ErasedLead`) so that erasing
it again answers "already erased".

A dry run is the very same erasure, rolled back: its counts are exact.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils.crypto import salted_hmac

from audit.actors import Actor, acting_as
from audit.recording import Action, record
from customers.models import Customer, CustomerAttribute, ErasedLead, ImportRowError
from marketing_os.models import IdempotencyRecord

TOMBSTONE = Customer.ERASED_PREFIX + "{id}"
LEAD_KEY_SALT = "marketing_os.customers.erasure"
MAX_ID = 2**63 - 1
ERASED = "(erased)"


@dataclass(frozen=True)
class Person:
    """What the customer was, read before anything is wiped: what erasers look for."""

    id: int
    lms_lead_id: str
    email: str | None
    mobile: str | None

    @property
    def identifiers(self) -> list[str]:
        """The values that single them out in free text and CSV cells."""
        return [value for value in (self.email, self.lms_lead_id, self.mobile) if value]


@dataclass
class ErasureReport:
    customer_id: int
    removed: dict[str, int] = field(default_factory=dict)  # what → rows changed
    notes: list[str] = field(default_factory=list)  # what was left alone, and why
    already_erased: bool = False
    dry_run: bool = False

    def count(self, what: str, rows: int) -> None:
        self.removed[what] = self.removed.get(what, 0) + rows


Eraser = Callable[[Person, ErasureReport], None]
ERASERS: dict[str, Eraser] = {}


def register_eraser(key: str, eraser: Eraser) -> None:
    """Another app's scrubbing of what it stores about a person (runs inside the erasure)."""
    ERASERS[key] = eraser


class UnknownCustomer(Exception):
    pass


class AmbiguousCustomer(Exception):
    pass


def lead_key(lms_lead_id: str) -> str:
    return salted_hmac(LEAD_KEY_SALT, lms_lead_id, algorithm="sha256").hexdigest()


def find_customer(key: str, *, by: str = "auto") -> Customer | ErasedLead:
    """The customer `key` names (an lms_lead_id or an id), or the record of its erasure.

    `by="auto"` refuses a key that is one customer's lms_lead_id and another's id:
    erasing the wrong person cannot be undone.
    """
    by_lead = Customer.objects.filter(lms_lead_id=key).first() if by != "id" else None
    by_id = None
    if by != "lms_lead_id" and key.isascii() and key.isdigit() and int(key) <= MAX_ID:
        by_id = Customer.objects.filter(pk=int(key)).first()
    if by_lead and by_id and by_lead != by_id:
        raise AmbiguousCustomer(
            f"{key!r} is the lms_lead_id of customer {by_lead.pk} and the id of customer "
            f"{by_id.pk}; say which with --by lms_lead_id or --by id."
        )
    if by_lead or by_id:
        return by_lead or by_id
    erased = ErasedLead.objects.filter(lead_key=lead_key(key)).first() if by != "id" else None
    if erased:
        return erased
    raise UnknownCustomer(f"No customer has {describe_key(by)} {key!r}.")


def describe_key(by: str) -> str:
    return {"id": "id", "lms_lead_id": "lms_lead_id"}.get(by, "lms_lead_id or id")


def erase_customer(
    customer: Customer, *, actor: Actor, now: datetime, dry_run: bool = False
) -> ErasureReport:
    """Erase the customer's personal data everywhere, atomically; idempotent."""
    report = ErasureReport(customer_id=customer.pk, dry_run=dry_run)
    with transaction.atomic(), acting_as(actor):
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.is_erased:
            report.already_erased = True
            return report
        person = Person(customer.pk, customer.lms_lead_id, customer.email, customer.mobile)
        for eraser in ERASERS.values():
            eraser(person, report)
        erase_own_data(person, report)
        wipe_customer(customer, now=now)
        ErasedLead.objects.get_or_create(
            lead_key=lead_key(person.lms_lead_id), defaults={"erased_at": now}
        )
        record(customer, action=Action.ERASE, now=now, details=audit_details(report))
        if dry_run:
            transaction.set_rollback(True)
    return report


def audit_details(report: ErasureReport) -> dict:
    """Counts only: the trail must never hold what was erased."""
    done = ", ".join(f"{what}: {n}" for what, n in report.removed.items() if n)
    return {"summary": f"personal data erased ({done or 'nothing else stored'})"} | {
        "removed": report.removed
    }


def wipe_customer(customer: Customer, *, now: datetime) -> None:
    customer.first_name = customer.last_name = customer.email = customer.mobile = None
    customer.lms_lead_id = TOMBSTONE.format(id=customer.pk)
    customer.erased_at = customer.updated_date = now
    customer.save(
        update_fields=[
            "first_name",
            "last_name",
            "email",
            "mobile",
            "lms_lead_id",
            "erased_at",
            "updated_date",
        ]
    )


def erase_own_data(person: Person, report: ErasureReport) -> None:
    attributes = CustomerAttribute.objects.filter(customer_id=person.id)
    report.count("attributes", attributes._raw_delete(connection.alias))
    report.count("import bad lines", scrub_bad_lines(person))
    report.count("API idempotency records", scrub_idempotency_records(person))


def pattern_of(values: list[str]) -> str:
    """A case-insensitive PostgreSQL regular expression matching any of `values` literally."""
    return "|".join(re.escape(value) for value in values)


def scrub_bad_lines(person: Person) -> int:
    """Blank the cells of imported bad lines that hold one of their identifiers.

    The line stays (its number and reason; the job's counts still add up). A
    scan of `import_row_errors`: erasures are rare, bad lines few.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ImportRowError._meta.db_table} SET cells = NULL "
            "WHERE cells IS NOT NULL AND EXISTS ("
            "  SELECT FROM jsonb_array_elements_text("
            "    CASE jsonb_typeof(cells) WHEN 'array' THEN cells ELSE '[]' END) AS cell"
            "  WHERE lower(btrim(cell)) = ANY(%s))",
            [[value.strip().lower() for value in person.identifiers]],
        )
        return cursor.rowcount


def scrub_idempotency_records(person: Person) -> int:
    """Replayed API answers name the lms_lead_id: they now name the tombstone.

    Rewritten rather than deleted, so a retried request within the 24 hours is
    still answered from the record instead of creating the person again.
    """
    quoted = json.dumps(person.lms_lead_id)  # as the API wrote it into the body
    tombstone = json.dumps(TOMBSTONE.format(id=person.id))
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET response_body = replace(response_body, %s, %s) "
            "WHERE strpos(response_body, %s) > 0",
            [quoted, tombstone, quoted],
        )
        changed = cursor.rowcount
        others = [value for value in (person.email, person.mobile) if value]
        if others:  # an error message may quote what was sent
            cursor.execute(
                f"UPDATE {table} SET response_body = regexp_replace(response_body, %s, %s, 'gi') "
                "WHERE response_body ~* %s",
                [pattern_of(others), ERASED, pattern_of(others)],
            )
            changed += cursor.rowcount
    return changed
