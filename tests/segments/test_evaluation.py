from datetime import timedelta

import pytest

from customers.models import Customer
from segments.evaluation import (
    SegmentError,
    check_segment_sql,
    evaluate_segment,
    preview_segment_sql,
    segment_customers,
)
from segments.models import CustomerSegment, SegmentMember
from tests.factories import make_attribute, make_customer, make_customers, make_event
from tests.segments.factories import make_manual_segment, make_segment, make_sql_segment

pytestmark = pytest.mark.django_db


def ids(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def test_a_manual_segment_is_its_list_of_customers(now):
    inside, _outside = make_customer(), make_customer()
    segment = make_manual_segment([inside])
    assert ids(segment_customers(segment, now=now)) == [inside.pk]


def test_a_sql_segment_is_the_ids_its_sql_returns(now):
    gold = make_customer(attributes={"tier": ("string", "gold")})
    make_customer(attributes={"tier": ("string", "silver")})
    segment = make_sql_segment(
        "SELECT customer_id FROM customer_attributes "
        "WHERE field_name = 'tier' AND field_value = '\"gold\"'"
    )
    assert ids(segment_customers(segment, now=now)) == [gold.pk]


def test_duplicate_and_unknown_ids_count_once_and_not_at_all(now):
    customer = make_customer()
    make_event(customer)
    make_event(customer, from_stage="contacted", to_stage="applied")
    segment = make_sql_segment("SELECT customer_id FROM funnel_events UNION ALL SELECT 999999999")
    assert ids(segment_customers(segment, now=now)) == [customer.pk]
    assert segment.last_count == 1


def test_evaluating_records_count_time_and_duration(now):
    make_customers(3)
    segment = make_sql_segment("SELECT id FROM customers")
    evaluation = evaluate_segment(segment, now=now)
    segment.refresh_from_db()
    assert (segment.last_count, segment.last_evaluated_date) == (3, now)
    assert segment.last_duration_ms == evaluation.duration_ms >= 0


def test_a_fresh_evaluation_is_reused_and_a_stale_one_redone(now):
    first = make_customer()
    segment = make_sql_segment("SELECT id FROM customers")
    segment_customers(segment, now=now)
    second = make_customer()
    assert ids(segment_customers(segment, now=now + timedelta(minutes=1))) == [first.pk]
    assert ids(segment_customers(segment, now=now, max_age=timedelta(0))) == sorted(
        [first.pk, second.pk]
    )


def test_changing_the_definition_makes_the_stored_members_stale(now):
    customer = make_customer(first_name="Zed")
    segment = make_sql_segment("SELECT id FROM customers WHERE first_name = 'Nobody'")
    assert ids(segment_customers(segment, now=now)) == []
    segment.selection_sql = "SELECT id FROM customers WHERE first_name = 'Zed'"
    segment.definition_changed_date = now + timedelta(seconds=1)
    assert ids(segment_customers(segment, now=now + timedelta(seconds=2))) == [customer.pk]


def test_deleted_customers_drop_out_of_an_evaluated_segment(now):
    leaving, staying = make_customers(2)
    segment = make_sql_segment("SELECT id FROM customers")
    segment_customers(segment, now=now)
    Customer.objects.filter(pk=leaving.pk).delete()
    assert ids(segment_customers(segment, now=now)) == [staying.pk]


def test_re_evaluating_replaces_the_stored_members(now):
    first = make_customer()
    segment = make_sql_segment("SELECT id FROM customers")
    evaluate_segment(segment, now=now)
    first.delete()
    second = make_customer()
    evaluate_segment(segment, now=now)
    assert ids(segment_customers(segment, now=now)) == [second.pk]


def test_a_reader_of_the_previous_evaluation_still_sees_its_members(now):
    customer = make_customer()
    segment = make_sql_segment("SELECT id FROM customers")
    evaluate_segment(segment, now=now)
    being_sent = segment_customers(segment, now=now)
    evaluate_segment(segment, now=now)
    assert ids(being_sent) == [customer.pk]
    evaluate_segment(segment, now=now)
    assert SegmentMember.objects.filter(segment=segment).count() == 2  # two generations kept


def test_deleting_a_segment_deletes_its_stored_members(now):
    make_customers(2)
    segment = make_sql_segment("SELECT id FROM customers")
    evaluate_segment(segment, now=now)
    segment.delete()
    assert not SegmentMember.objects.exists()


def test_a_function_segment_is_the_ids_its_handler_returns(now):
    new = make_customer(now=now - timedelta(days=2))
    make_customer(now=now - timedelta(days=20))
    segment = make_segment(
        "New", type=CustomerSegment.Type.FUNCTION, handler_function="new_last_7_days"
    )
    assert ids(segment_customers(segment, now=now)) == [new.pk]


def test_a_sql_error_carries_postgresqls_message_and_position(now):
    sql = "SELECT id\nFROM customers\nWHERE nonsense = 1"
    problem = check_segment_sql(sql)
    assert 'column "nonsense" does not exist' in problem.message
    assert problem.location(sql) == "line 3, column 7"


def test_a_sql_returning_text_is_refused(now):
    problem = check_segment_sql("SELECT email FROM customers")
    assert "must hold customer ids" in problem.message


def test_a_star_over_several_columns_is_refused(now):
    problem = check_segment_sql("SELECT * FROM customers")
    assert "exactly one column" in problem.message


def test_a_segment_that_cannot_be_evaluated_raises_a_clear_error(now):
    segment = make_sql_segment("SELECT id FROM nowhere")
    with pytest.raises(SegmentError, match="Table nowhere is not allowed"):
        segment_customers(segment, now=now)


def test_the_preview_shows_count_and_first_twenty_customers_without_saving(now):
    customers = make_customers(25)
    preview = preview_segment_sql("SELECT id FROM customers")
    assert preview.count == 25
    assert [c.pk for c in preview.customers] == sorted(c.pk for c in customers)[:20]
    assert not SegmentMember.objects.exists()


def test_sql_may_use_attributes_and_events_together(now):
    customer = make_customer()
    make_attribute(customer, "score", "numeric", 80)
    make_event(customer, to_stage="applied")
    other = make_customer()
    make_attribute(other, "score", "numeric", 10)
    preview = preview_segment_sql(
        """WITH scored AS (
             SELECT customer_id FROM customer_attributes
             WHERE field_name = 'score' AND (field_value)::numeric >= 50
           )
           SELECT e.customer_id FROM funnel_events e JOIN scored USING (customer_id)
           WHERE e.to_stage = 'applied'; -- applied and scored"""
    )
    assert [c.pk for c in preview.customers] == [customer.pk]


def test_members_emptied_by_a_crash_are_evaluated_again(now):
    # The stored members live in an UNLOGGED table, which a crash empties.
    customer = make_customer()
    segment = make_sql_segment("SELECT id FROM customers")
    evaluate_segment(segment, now=now)
    SegmentMember.objects.all().delete()
    later = now + timedelta(minutes=1)
    assert ids(segment_customers(segment, now=later, max_age=timedelta(days=1))) == [customer.pk]


def test_an_evaluation_that_found_nobody_is_reused_while_fresh(now):
    segment = make_sql_segment("SELECT id FROM customers")
    evaluate_segment(segment, now=now)
    make_customer()
    assert ids(segment_customers(segment, now=now + timedelta(minutes=1))) == []


def test_stored_members_keep_their_place_in_the_pages_order(now):
    # Created out of id order, two at one moment: newest first, ties newest id first.
    older, newest, tied_low, tied_high = (
        make_customer(now=now - timedelta(days=days)) for days in (9, 1, 4, 4)
    )
    segment = make_sql_segment("SELECT id FROM customers UNION ALL SELECT id FROM customers")
    evaluate_segment(segment, now=now)
    stored = SegmentMember.objects.filter(segment=segment).order_by("position")
    assert list(stored.values_list("position", "customer_id")) == [
        (1, newest.pk),
        (2, tied_high.pk),
        (3, tied_low.pk),
        (4, older.pk),
    ]
    assert segment.last_count == 4


def test_an_sql_segment_that_finds_nobody_stores_nobody(now):
    make_customer()
    segment = make_sql_segment("SELECT id FROM customers WHERE false")
    assert evaluate_segment(segment, now=now).count == 0
    assert not SegmentMember.objects.exists()


def test_a_trailing_semicolon_and_comment_do_not_break_storing(now):
    kept = make_customer(first_name="Kept")
    make_customer(first_name="Other")
    segment = make_sql_segment("SELECT id FROM customers WHERE first_name = 'Kept'; -- kept only")
    assert evaluate_segment(segment, now=now).count == 1
    assert ids(segment_customers(segment, now=now)) == [kept.pk]
