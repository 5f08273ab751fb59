"""Funnel events come in here, from the API, the CSV page and `import_csv`.

Events are only ever inserted (the table refuses UPDATE and DELETE). Ids are
drawn from the sequence first so the answer lists them in the order sent.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from customers.ingest import (
    CUSTOMER_REF_FIELDS,
    IngestResult,
    Invalid,
    check_fields,
    clean_customer_ref,
    clean_text,
    parse_timestamp,
    validate_referring_items,
)
from funnel.models import FunnelEvent

EVENT_ITEM_FIELDS = CUSTOMER_REF_FIELDS | {"funnel_type", "from_stage", "to_stage", "created_date"}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

FUNNEL_TYPES = frozenset(FunnelEvent.FunnelType.values)  # .values builds a new list each time
COPY_EVENTS = (
    "COPY funnel_events (id, customer_id, funnel_type, from_stage, to_stage, created_date) "
    "FROM STDIN"
)


def clean_event(item: Any) -> dict:
    check_fields(item, EVENT_ITEM_FIELDS)
    event = clean_customer_ref(item)
    if item.get("funnel_type") not in FUNNEL_TYPES:
        raise Invalid("funnel_type", f"must be one of {', '.join(FunnelEvent.FunnelType.values)}")
    event["funnel_type"] = item["funnel_type"]
    event["from_stage"] = clean_text(item.get("from_stage"), "from_stage")
    event["to_stage"] = clean_text(item.get("to_stage"), "to_stage", required=True)
    if item.get("created_date") not in (None, ""):
        event["created_date"] = parse_timestamp(item["created_date"], "created_date")
        if event["created_date"] < EARLIEST:
            raise Invalid("created_date", "must not be before 1970")
    return event


def ingest_events(
    items: Sequence[Any], *, now: datetime, skip_invalid: bool = False
) -> IngestResult:
    """Insert funnel events; unknown customers are item errors.

    With `skip_invalid` (CSV) valid items are stored and bad ones reported;
    without it (API) any bad item means nothing is stored.
    """
    valid, result = validate_referring_items(items, clean_event)
    if (result.errors and not skip_invalid) or not valid:
        return result
    events = [event for _, event in valid]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('funnel_events', 'id')) "
            "FROM generate_series(1, %s)",
            [len(events)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        # COPY, not INSERT … unnest(arrays): the rows are written by psycopg's C
        # code instead of being quoted into a query text (the foreign key, checks
        # and triggers apply to COPY alike). Ids follow the order sent; the rows go
        # in by customer, so the foreign-key checks and the (customer_id,
        # created_date) index visit customers in order.
        rows = sorted(zip(ids, events, strict=True), key=lambda row: row[1]["customer_id"])
        with connection.wrap_database_errors, cursor.cursor.copy(COPY_EVENTS) as copy:
            for pk, e in rows:
                copy.write_row(
                    (
                        pk,
                        e["customer_id"],
                        e["funnel_type"],
                        e["from_stage"],
                        e["to_stage"],
                        e.get("created_date", now),
                    )
                )
    result.created, result.ids = len(ids), ids
    return result
