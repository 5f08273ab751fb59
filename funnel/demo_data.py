"""Demo data: customers, typed attributes and funnel journeys, loaded through the real
ingest functions (`ingest_customers`, `ingest_events`) in batches.

Safe to run twice: customers and attributes are upserted by `lms_lead_id`, and
events — which are immutable history — are only added for customers that have
none yet, so a second run adds no events (a larger `customers` adds events for
the new customers only).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from customers.demo_data import customer_rng, demo_customer
from customers.ingest import IngestResult, ingest_customers
from funnel.ingest import ingest_events
from funnel.journeys import demo_journeys
from funnel.models import FunnelEvent


class DemoDataError(Exception):
    """The generator produced items the ingest refused (a bug, not bad input)."""


@dataclass
class DemoSummary:
    customers_created: int = 0
    customers_updated: int = 0
    attributes: int = 0
    events_created: int = 0
    customers_kept_events: int = 0  # had events already: none added


def load_demo_data(
    customers: int,
    *,
    seed: int,
    now: datetime,
    batch_size: int = 500,
    progress: Callable[[int, DemoSummary], None] | None = None,
) -> DemoSummary:
    """Upsert demo customers 1..`customers` and give new ones their journeys."""
    summary = DemoSummary()
    for first in range(1, customers + 1, batch_size):
        serials = range(first, min(first + batch_size, customers + 1))
        load_batch(serials, seed=seed, now=now, summary=summary)
        if progress:
            progress(serials[-1], summary)
    return summary


@transaction.atomic
def load_batch(serials: Sequence[int], *, seed: int, now: datetime, summary: DemoSummary) -> None:
    """One batch, customers with their events, all or nothing."""
    people = []
    for serial in serials:
        rng = customer_rng(seed, serial)
        item, arrived = demo_customer(rng, serial, now=now)
        people.append((item, arrived, rng))
    items = [item for item, _, _ in people]
    result = checked(ingest_customers(items, now=now))
    summary.customers_created += result.created
    summary.customers_updated += result.updated
    summary.attributes += sum(len(item["attributes"]) for item in items)
    ids = [row["id"] for row in result.results]
    with_events = set(
        FunnelEvent.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True)
    )
    events = []
    for customer_id, (_, arrived, rng) in zip(ids, people, strict=True):
        if customer_id not in with_events:
            journeys = demo_journeys(rng, arrived=arrived, now=now)
            events += [event | {"customer_id": customer_id} for event in journeys]
    summary.customers_kept_events += len(with_events)
    if events:
        summary.events_created += checked(ingest_events(events, now=now)).created


def checked(result: IngestResult) -> IngestResult:
    if result.errors:
        raise DemoDataError(f"the ingest refused demo items: {result.errors[:3]}")
    return result
