"""Segments for tests, saved the way the pages save them."""

from datetime import UTC, datetime

from segments.models import CustomerSegment, CustomerSegmentCustomer

# Tests run at a fixed `now` (tests/conftest.py); a segment defined at the database's
# real clock would be "changed after" every evaluation at that `now` once the real date
# passes it.
DEFINED = datetime(2026, 1, 1, tzinfo=UTC)


def make_segment(name: str = "Segment", **fields) -> CustomerSegment:
    fields.setdefault("definition_changed_date", DEFINED)
    return CustomerSegment.objects.create(name=name, **fields)


def make_sql_segment(sql: str, name: str = "SQL segment") -> CustomerSegment:
    return make_segment(name, type=CustomerSegment.Type.SQL, selection_sql=sql)


def make_manual_segment(customers, name: str = "Manual segment") -> CustomerSegment:
    segment = make_segment(name, type=CustomerSegment.Type.MANUAL)
    CustomerSegmentCustomer.objects.bulk_create(
        CustomerSegmentCustomer(customer_segment=segment, customer=c) for c in customers
    )
    return segment
