from datetime import timedelta

import pytest

from customers.models import Customer
from funnel.models import FunnelEvent
from segments.evaluation import SegmentError, segment_customers
from segments.handlers import REGISTRY, HandlerFailed, handler, handler_choices, run_handler
from segments.models import CustomerSegment, SegmentMember
from tests.factories import make_customer, make_event
from tests.segments.factories import make_segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    """Register test handlers for one test only."""
    names = []

    def register(name, function):
        handler(name, description=f"test handler {name}")(function)
        names.append(name)

    yield register
    for name in names:
        del REGISTRY[name]


def function_segment(name: str) -> CustomerSegment:
    return make_segment(name, type=CustomerSegment.Type.FUNCTION, handler_function=name)


def ids(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def test_it_ships_three_described_handlers():
    names = [name for name, _ in handler_choices()]
    assert {"new_last_7_days", "stalled_sales_30_days", "no_funnel_events"} <= set(names)
    assert all(REGISTRY[name].description for name in names)


def test_only_registered_names_can_be_invoked(now):
    with pytest.raises(HandlerFailed, match="No segment handler is registered"):
        run_handler("os.system", now=now)


def test_a_function_segment_with_an_unknown_handler_gives_a_clear_error(now):
    segment = function_segment("customers.models.Customer.objects.all")
    with pytest.raises(SegmentError, match="No segment handler"):
        segment_customers(segment, now=now)


def test_a_handler_registered_twice_is_refused(registered):
    registered("twice", lambda *, now: [])
    with pytest.raises(ValueError, match="already registered"):
        handler("twice", description="again")(lambda *, now: [])


def test_a_handler_that_raises_gives_a_clear_error(registered, now):
    def broken(*, now):
        raise RuntimeError("the CRM is down")

    registered("broken", broken)
    message = "Handler 'broken' failed: RuntimeError: the CRM is down"
    with pytest.raises(SegmentError, match=message):
        segment_customers(function_segment("broken"), now=now)


@pytest.mark.parametrize(
    "result",
    [None, "12", [1, "two"], [1.5], [True], {"id": 1}],
    ids=["none", "a string", "a string id", "a float", "a boolean", "a dict"],
)
def test_a_handler_returning_non_ids_gives_a_clear_error(registered, now, result):
    registered("odd", lambda *, now: result)
    with pytest.raises(SegmentError, match="Handler 'odd' returned"):
        segment_customers(function_segment("odd"), now=now)


def test_a_handler_returning_a_query_of_other_ids_is_refused(registered, now):
    registered("events", lambda *, now: FunnelEvent.objects.values("id"))
    with pytest.raises(SegmentError, match="not customer ids"):
        segment_customers(function_segment("events"), now=now)


def test_a_handler_may_return_a_list_of_ids_with_unknown_ones_ignored(registered, now):
    customer = make_customer()
    registered("listed", lambda *, now: [customer.pk, customer.pk, 987654321])
    assert ids(segment_customers(function_segment("listed"), now=now)) == [customer.pk]


def test_a_handler_may_return_customers(registered, now):
    customer = make_customer(first_name="Ravi")
    make_customer(first_name="Meena")
    registered("ravis", lambda *, now: Customer.objects.filter(first_name="Ravi"))
    assert ids(segment_customers(function_segment("ravis"), now=now)) == [customer.pk]


def test_new_last_7_days_finds_recent_customers(now):
    recent = make_customer(now=now - timedelta(days=6))
    make_customer(now=now - timedelta(days=8))
    assert ids(segment_customers(function_segment("new_last_7_days"), now=now)) == [recent.pk]


def test_stalled_sales_finds_customers_whose_latest_sales_event_is_old(now):
    stalled, active, service_only = make_customer(), make_customer(), make_customer()
    make_event(stalled, now=now - timedelta(days=40))
    make_event(active, now=now - timedelta(days=40))
    make_event(active, from_stage="contacted", to_stage="applied", now=now - timedelta(days=3))
    make_event(service_only, funnel_type="service-delivery", now=now - timedelta(days=40))
    segment = function_segment("stalled_sales_30_days")
    assert ids(segment_customers(segment, now=now)) == [stalled.pk]


def test_no_funnel_events_finds_customers_never_in_a_funnel(now):
    quiet, busy = make_customer(), make_customer()
    make_event(busy)
    assert ids(segment_customers(function_segment("no_funnel_events"), now=now)) == [quiet.pk]


def test_every_kind_of_handler_result_is_stored_in_page_order(registered, now):
    # Created out of id order, two on one day: newest first, ties newest id first.
    older, newest, tied_low, tied_high = (
        make_customer(now=now - timedelta(days=days)) for days in (9, 1, 4, 4)
    )
    expected = [newest.pk, tied_high.pk, tied_low.pk, older.pk]
    everyone = [older.pk, newest.pk, tied_low.pk, tied_high.pk]
    registered("as_list", lambda *, now: [*everyone, 987654321])
    registered("as_query", lambda *, now: Customer.objects.values("id"))
    for name in ("as_list", "as_query"):
        segment = function_segment(name)
        segment_customers(segment, now=now)
        stored = SegmentMember.objects.filter(segment=segment).order_by("position")
        assert list(stored.values_list("position", "customer_id")) == list(
            enumerate(expected, start=1)
        ), name
