import re
from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import make_attribute, make_customer, make_customers
from tests.segments.factories import make_manual_segment, make_segment, make_sql_segment

pytestmark = pytest.mark.django_db


def customers_page(client, segment, **params):
    return client.get(reverse("segments:customers", args=[segment.pk]), params)


def test_it_lists_only_the_segments_customers_with_the_customer_columns(logged_in):
    inside = make_customer(first_name="Inside", email="inside@example.com")
    make_customer(first_name="Outside")
    page = customers_page(logged_in, make_manual_segment([inside])).content.decode()
    assert "Inside" in page and "inside@example.com" in page and inside.lms_lead_id in page
    assert "Outside" not in page
    for heading in ("LMS lead id", "Name", "Email", "Mobile", "Created"):
        assert heading in page


def test_it_searches_within_the_segment_like_the_customers_page(logged_in):
    priya = make_customer(first_name="Priya", last_name="Sharma")
    ravi = make_customer(first_name="Ravi", last_name="Sharma")
    make_customer(first_name="Priya", last_name="Outsider")
    segment = make_sql_segment("SELECT id FROM customers WHERE last_name = 'Sharma'")
    page = customers_page(logged_in, segment, q="pri sha").content.decode()
    assert priya.lms_lead_id in page and ravi.lms_lead_id not in page
    assert "Outsider" not in page


def test_it_filters_by_attribute_within_the_segment(logged_in):
    pune, delhi = make_customers(2)
    make_attribute(pune, "city", "string", "Pune")
    make_attribute(delhi, "city", "string", "Delhi")
    page = customers_page(
        logged_in, make_manual_segment([pune, delhi]), attribute="city", value="Pune"
    ).content.decode()
    assert pune.lms_lead_id in page and delhi.lms_lead_id not in page


def test_it_paginates_in_sql_with_few_queries(logged_in, django_assert_num_queries):
    customers = make_customers(60)
    segment = make_sql_segment("SELECT id FROM customers")
    customers_page(logged_in, segment)  # evaluates and stores the members
    # Session, user, two for permissions, the segment, its generation, that its stored
    # members are there, the page's customers: the count is the stored one.
    with django_assert_num_queries(8):
        response = customers_page(logged_in, segment, page=2)
    page = response.content.decode()
    assert response.status_code == 200 and "60 results" in page
    # Newest first: page 2 holds the ten oldest.
    assert customers[0].lms_lead_id in page and customers[-1].lms_lead_id not in page
    assert len(re.findall(r'href="/customers/\d+/"', page)) == 2 * 10


def listed(response) -> list[int]:
    """Customer ids in the order the page lists them (each row links twice)."""
    links = re.findall(r'href="/customers/(\d+)/"', response.content.decode())
    return [int(pk) for pk in dict.fromkeys(links)]


def test_pages_of_an_evaluated_segment_follow_each_other_newest_first(logged_in, now):
    # Created out of id order, several at one moment: newest first, ties newest id first.
    days = [5, 1, 3, 3, 0, 7, 3, 2, 6, 1, 4]
    customers = [make_customer(now=now - timedelta(days=d)) for d in days]
    make_customer(first_name="Outsider")
    segment = make_sql_segment("SELECT id FROM customers WHERE first_name = 'Asha'")
    newest_first = sorted(customers, key=lambda c: (c.created_date, c.pk), reverse=True)
    pages = [listed(customers_page(logged_in, segment, page=n, per_page=4)) for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [4, 4, 3]
    assert sum(pages, []) == [c.pk for c in newest_first]
    # The other orders page through the join, and agree.
    oldest_first = [
        listed(customers_page(logged_in, segment, page=n, per_page=4, sort="created"))
        for n in (1, 2, 3)
    ]
    assert sum(oldest_first, []) == [c.pk for c in reversed(newest_first)]


def test_a_deep_page_costs_the_queries_of_the_first(logged_in, django_assert_num_queries):
    make_customers(30)
    segment = make_sql_segment("SELECT id FROM customers")
    customers_page(logged_in, segment)
    for page in (1, 6):
        with django_assert_num_queries(8) as captured:
            response = customers_page(logged_in, segment, page=page, per_page=5)
        assert len(listed(response)) == 5
        # by stored position, not by walking the pages before it
        assert "OFFSET" not in captured.captured_queries[-1]["sql"]


def test_a_customer_deleted_since_the_evaluation_leaves_the_page(logged_in):
    kept, gone = make_customers(2)
    segment = make_sql_segment("SELECT id FROM customers")
    customers_page(logged_in, segment)
    gone.delete()
    assert listed(customers_page(logged_in, segment)) == [kept.pk]


def test_a_function_segment_lists_its_handlers_customers(logged_in):
    quiet = make_customer()
    segment = make_segment("Quiet", type="function", handler_function="no_funnel_events")
    assert quiet.lms_lead_id in customers_page(logged_in, segment).content.decode()


def test_a_segment_that_cannot_be_evaluated_goes_back_to_its_page_with_the_reason(logged_in):
    segment = make_segment("Gone", type="function", handler_function="no_longer_registered")
    response = customers_page(logged_in, segment)
    assert response.status_code == 302
    page = logged_in.get(response["Location"]).content.decode()
    assert "could not be evaluated" in page and "no_longer_registered" in page


def test_an_empty_segment_says_so(logged_in):
    page = customers_page(logged_in, make_manual_segment([])).content.decode()
    assert "This segment has no customers yet." in page


def test_a_missing_segment_is_a_404(logged_in):
    assert logged_in.get(reverse("segments:customers", args=[404])).status_code == 404


def row_of(response, customer) -> str:
    """The table row linking to `customer`, whitespace and empty attributes aside."""
    page = re.sub(r">\s+<", "><", response.content.decode()).replace("<td >", "<td>")
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page)
    return next(row for row in rows if f'href="/customers/{customer.pk}/"' in row)


def test_a_row_reads_as_on_the_customers_page(logged_in):
    customer = make_customer(first_name="Meera", email="meera@example.com")
    segment = make_sql_segment("SELECT id FROM customers")
    on_segment_page = row_of(customers_page(logged_in, segment), customer)
    assert on_segment_page == row_of(logged_in.get(reverse("customers:list")), customer)
    assert "Meera" in on_segment_page and "meera@example.com" in on_segment_page
