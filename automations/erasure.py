"""What sending keeps about a person, for `customers.erasure` (registered in AutomationsConfig).

Deliveries stay (a run's counts must still add up) without their address;
Resend's webhook payloads of their emails keep only the event type, time and
Resend's id; subscription changes keep what happened and when, not the
address or the typed reason; error texts lose the address.

Suppression: an erased person must never be emailed again, so every address
we knew for them (the current one, those their emails went to, those once
suppressed for them) stays suppressed, but only as `erased_address_key` (a
SHA-256 of the address) and linked to nobody. The sender compares each
recipient's address and its hash, so a later upsert of the same address is
not emailed either, until an admin re-subscribes that new customer.
"""

from django.db import connection
from django.db.models import Q

from automations.models import (
    Batch,
    Delivery,
    DeliveryEvent,
    Run,
    SubscriptionChange,
    Suppression,
    erased_address_key,
)
from customers.erasure import ERASED, ErasureReport, Person, pattern_of


def erase_sending_data(person: Person, report: ErasureReport) -> None:
    addresses = known_addresses(person)
    report.count("suppressions kept as a hash", suppress_as_hashes(person, addresses))
    report.count("delivery feedback events", redact_events(person))
    report.count("message deliveries", scrub_deliveries(person, addresses))
    report.count("run and batch errors", scrub_errors(addresses))
    changes = SubscriptionChange.objects.filter(customer_id=person.id)
    report.count("subscription changes", changes.update(email="", reason=""))


def known_addresses(person: Person) -> set[str]:
    deliveries = Delivery.objects.filter(customer_id=person.id).exclude(email="")
    changes = SubscriptionChange.objects.filter(customer_id=person.id).exclude(email="")
    linked = Suppression.objects.filter(customer_id=person.id)
    found = [person.email or ""]
    found += deliveries.values_list("email", flat=True).distinct()
    found += changes.values_list("email", flat=True).distinct()
    found += [s.email for s in linked if not s.is_erased_address]
    return {address.strip().lower() for address in found if address.strip()}


def suppress_as_hashes(person: Person, addresses: set[str]) -> int:
    """Replace the plain suppressions by hashed ones, adding one for every known address."""
    plain = Suppression.objects.filter(Q(email__in=addresses) | Q(customer_id=person.id))
    plain = plain.exclude(email__startswith="sha256:")
    reasons = dict(plain.values_list("email", "reason"))
    plain.delete()
    hashed = [
        Suppression(
            email=erased_address_key(address),
            reason=reasons.get(address) or Suppression.Source.ERASURE,
        )
        for address in sorted(addresses)
    ]
    Suppression.objects.bulk_create(hashed, ignore_conflicts=True)
    return len(hashed)


def redacted(payload: object) -> dict:
    """A Resend webhook payload without the person: its type, time and Resend's id."""
    event = payload if isinstance(payload, dict) else {}
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    kept = {key: event[key] for key in ("type", "created_at") if key in event}
    return kept | {"data": {"email_id": data.get("email_id")}, "erased": True}


REDACT_EVENTS = f"""
    UPDATE {DeliveryEvent._meta.db_table} AS e
    SET payload = jsonb_strip_nulls(jsonb_build_object(
            'type', e.payload->'type', 'created_at', e.payload->'created_at'))
        || jsonb_build_object(
            'data', jsonb_build_object('email_id', e.payload->'data'->'email_id'), 'erased', true)
    FROM {Delivery._meta.db_table} AS d
    WHERE d.customer_id = %s AND (e.delivery_id = d.id OR (d.resend_id <> ''
                                                          AND e.resend_id = d.resend_id))
      AND e.payload->'erased' IS DISTINCT FROM 'true'::jsonb
"""


def redact_events(person: Person) -> int:
    """Every webhook event about their emails, as `redacted` would write it (one UPDATE)."""
    with connection.cursor() as cursor:
        cursor.execute(REDACT_EVENTS, [person.id])
        return cursor.rowcount


def scrub_deliveries(person: Person, addresses: set[str]) -> int:
    """The customer's deliveries without an address, and their errors without it."""
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET email = '', "
            "last_error = CASE WHEN %(pattern)s = '' THEN last_error "
            "  ELSE regexp_replace(last_error, %(pattern)s, %(erased)s, 'gi') END "
            "WHERE customer_id = %(id)s AND (email <> '' OR last_error <> '')",
            {"pattern": pattern_of(sorted(addresses)), "erased": ERASED, "id": person.id},
        )
        return cursor.rowcount


def scrub_errors(addresses: set[str]) -> int:
    """Resend's error texts can quote an address: runs' and batches' lose theirs."""
    if not addresses:
        return 0
    pattern, changed = pattern_of(sorted(addresses)), 0
    with connection.cursor() as cursor:
        for table, column in ((Run._meta.db_table, "error"), (Batch._meta.db_table, "last_error")):
            cursor.execute(
                f"UPDATE {table} SET {column} = regexp_replace({column}, %s, %s, 'gi') "
                f"WHERE {column} ~* %s",
                [pattern, ERASED, pattern],
            )
            changed += cursor.rowcount
    return changed
