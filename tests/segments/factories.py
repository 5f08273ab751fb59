"""Segments for tests, saved the way the pages save them."""

from segments.models import CustomerSegment, CustomerSegmentCustomer


def make_segment(name: str = "Segment", **fields) -> CustomerSegment:
    return CustomerSegment.objects.create(name=name, **fields)


def make_sql_segment(sql: str, name: str = "SQL segment") -> CustomerSegment:
    return make_segment(name, type=CustomerSegment.Type.SQL, selection_sql=sql)


def make_manual_segment(customers, name: str = "Manual segment") -> CustomerSegment:
    segment = make_segment(name, type=CustomerSegment.Type.MANUAL)
    CustomerSegmentCustomer.objects.bulk_create(
        CustomerSegmentCustomer(customer_segment=segment, customer=c) for c in customers
    )
    return segment
