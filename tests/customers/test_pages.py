from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils.http import urlencode

from customers.filters import CustomerFilter
from customers.models import Customer
from customers.tables import CustomerTable
from tests.factories import NOW, make_customer, make_customers, make_event

pytestmark = pytest.mark.django_db


def records(table) -> list:
    return [row.record for row in table.page.object_list]


def lead_ids(response) -> list[str]:
    return [customer.lms_lead_id for customer in records(response.context["table"])]


def get_list(client, **params):
    response = client.get("/customers/?" + urlencode(params))
    assert response.status_code == 200
    return response


# -- access ------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    customer = make_customer()
    for path in ("/customers/", f"/customers/{customer.pk}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


# -- the list ------------------------------------------------------------------


def test_it_lists_customers_newest_first(logged_in):
    old = make_customer(now=NOW - timedelta(days=2))
    new = make_customer(now=NOW)
    assert lead_ids(get_list(logged_in)) == [new.lms_lead_id, old.lms_lead_id]


def test_it_finds_customers_by_the_start_of_any_word(logged_in):
    priya = make_customer(first_name="Priya", last_name="Sharma", email="ps@campus.in")
    make_customer(first_name="Rahul", last_name="Iyer")
    assert lead_ids(get_list(logged_in, q="pri sha")) == [priya.lms_lead_id]
    assert lead_ids(get_list(logged_in, q="campus")) == [priya.lms_lead_id]
    assert lead_ids(get_list(logged_in, q=priya.lms_lead_id)) == [priya.lms_lead_id]


def test_it_finds_customers_by_short_and_long_words_together(logged_in):
    priya = make_customer(first_name="Priya", last_name="Sharma", mobile="+91 98765 43210")
    make_customer(first_name="Pooja", last_name="Sharma", mobile="+91 11111 22222")
    assert lead_ids(get_list(logged_in, q="p sharma 98")) == [priya.lms_lead_id]
    assert lead_ids(get_list(logged_in, q="pr")) == [priya.lms_lead_id]
    assert len(lead_ids(get_list(logged_in, q="sha"))) == 2


def test_it_finds_customers_by_mobile_digits(logged_in):
    customer = make_customer(mobile="+91 98765 43210")
    make_customer(mobile="+91 11111 22222")
    assert lead_ids(get_list(logged_in, q="98765")) == [customer.lms_lead_id]


def test_it_finds_customers_by_the_start_of_their_email_address_in_any_case(logged_in):
    priya = make_customer(first_name="Priya", email="Priya.Sharma@Example.com")
    make_customer(first_name="Priya", email="priya.shah@example.com")
    assert lead_ids(get_list(logged_in, q="priya.sharma@exa")) == [priya.lms_lead_id]
    assert lead_ids(get_list(logged_in, q="PRIYA.SHARMA@EXAMPLE.COM")) == [priya.lms_lead_id]
    assert lead_ids(get_list(logged_in, q="priya priya.s%@")) == []  # % is no wildcard


def test_it_treats_sql_and_tsquery_syntax_as_plain_words(logged_in):
    make_customer(first_name="O'Brien")
    for q in ("'; DROP TABLE customers; --", "a & | ! :* ( )", "%_\\", '"', "<script>"):
        response = get_list(logged_in, q=q)
        assert "Customers" in response.content.decode()
    assert Customer.objects.count() == 1


def test_it_filters_by_created_date_range_inclusive_of_both_days(logged_in):
    make_customer(now=datetime(2026, 11, 1, 23, 59, tzinfo=UTC))
    inside = make_customer(now=datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    last = make_customer(now=datetime(2026, 11, 3, 23, 59, tzinfo=UTC))
    make_customer(now=datetime(2026, 11, 4, 0, 0, tzinfo=UTC))
    response = get_list(logged_in, created_from="2026-11-02", created_to="2026-11-03")
    assert lead_ids(response) == [last.lms_lead_id, inside.lms_lead_id]


def test_it_filters_by_attribute_name_and_value(logged_in):
    pune = make_customer(attributes={"city": ("string", "Pune"), "tags": ("array", ["vip"])})
    make_customer(attributes={"city": ("string", "Delhi")})
    make_customer(attributes={"hometown": ("string", "Pune")})
    assert lead_ids(get_list(logged_in, attribute="city", value="Pune")) == [pune.lms_lead_id]
    assert lead_ids(get_list(logged_in, attribute="tags", value="vip")) == [pune.lms_lead_id]
    assert len(lead_ids(get_list(logged_in, attribute="city"))) == 2
    assert len(lead_ids(get_list(logged_in, value="Pune"))) == 2


@pytest.mark.parametrize("value", ["NaN", "1e400", "-Infinity", "' OR 1=1 --"])
def test_an_attribute_value_that_is_no_json_number_just_finds_nothing(logged_in, value):
    make_customer(attributes={"score": ("numeric", 5)})
    response = get_list(logged_in, attribute="score", value=value)
    assert lead_ids(response) == []


def test_an_attribute_value_finds_numbers_and_booleans_typed_as_text(logged_in):
    five = make_customer(attributes={"score": ("numeric", 5), "paid": ("boolean", True)})
    make_customer(attributes={"score": ("numeric", 6), "paid": ("boolean", False)})
    assert lead_ids(get_list(logged_in, attribute="score", value="5.0")) == [five.lms_lead_id]
    assert lead_ids(get_list(logged_in, attribute="paid", value="True")) == [five.lms_lead_id]


def test_it_shows_a_bad_date_as_a_form_error_and_still_searches(logged_in):
    customer = make_customer(first_name="Zelda")
    make_customer(first_name="Other")
    response = get_list(logged_in, q="zelda", created_from="2026-13-45")
    assert "Enter a valid date." in response.content.decode()
    assert lead_ids(response) == [customer.lms_lead_id]


def test_it_says_so_when_the_date_range_is_back_to_front(logged_in):
    response = get_list(logged_in, created_from="2026-11-05", created_to="2026-11-01")
    assert "is after" in response.content.decode()


def test_it_survives_the_extreme_dates_a_date_field_accepts(logged_in):
    make_customer()
    response = get_list(logged_in, created_from="0001-01-01", created_to="9999-12-31")
    assert len(lead_ids(response)) == 1


def test_it_explains_an_empty_search(logged_in):
    make_customer()
    response = get_list(logged_in, q="nobody-like-this")
    assert "No customers match this search" in response.content.decode()


def test_it_explains_an_empty_database(logged_in):
    assert "No customers yet" in get_list(logged_in).content.decode()


def test_it_shows_how_many_customers_match(logged_in):
    make_customers(3, first_name="Counted")
    make_customer(first_name="Other")
    assert "3 results" in get_list(logged_in, q="counted").content.decode()


# -- sorting and paging ------------------------------------------------------------


def test_it_sorts_by_name_both_ways(logged_in):
    for last_name in ("Bose", "Anand", "Chopra"):
        make_customer(last_name=last_name)
    names = [c.last_name for c in records(get_list(logged_in, sort="name").context["table"])]
    assert names == ["Anand", "Bose", "Chopra"]
    names = [c.last_name for c in records(get_list(logged_in, sort="-name").context["table"])]
    assert names == ["Chopra", "Bose", "Anand"]


def test_it_ignores_a_sort_on_a_column_that_is_not_sortable(logged_in):
    old = make_customer(now=NOW - timedelta(days=1))
    new = make_customer(now=NOW)
    for sort in ("mobile", "password", "id;DROP", "-search_vector"):
        assert lead_ids(get_list(logged_in, sort=sort)) == [new.lms_lead_id, old.lms_lead_id]


def test_page_two_holds_the_next_customers_and_links_keep_the_search(logged_in):
    make_customers(55, first_name="Paged", now=NOW)  # one timestamp: the id breaks ties
    page_one = lead_ids(get_list(logged_in, q="paged"))
    response = get_list(logged_in, q="paged", page=2)
    page_two = lead_ids(response)
    assert len(page_one) == 50 and len(page_two) == 5
    assert not set(page_one) & set(page_two)
    assert "q=paged" in response.content.decode().split('class="pagination')[1]


@pytest.mark.parametrize("page", ["abc", "0", "-3", "99999999999999999999"])
def test_it_answers_a_nonsense_page_number_with_a_real_page(logged_in, page):
    make_customers(3)
    assert len(lead_ids(get_list(logged_in, page=page))) == 3


def test_it_caps_the_page_size_a_visitor_can_ask_for(logged_in):
    make_customers(3)
    response = get_list(logged_in, per_page=10**9)
    assert response.context["table"].paginator.per_page == 200


def test_the_list_costs_the_same_few_queries_however_many_customers(
    logged_in, django_assert_max_num_queries
):
    for serial in range(60):
        make_customer(attributes={"city": ("string", "Pune")}, first_name=f"N{serial}")
    # session, user, count, page
    with django_assert_max_num_queries(6):  # +2: the user's permissions (role check, nav)
        get_list(logged_in, attribute="city", value="Pune", sort="name")


# -- the detail page ------------------------------------------------------------


def test_the_detail_page_shows_the_customer_attributes_by_type_and_events(logged_in):
    customer = make_customer(
        first_name="Meera",
        last_name="Nair",
        attributes={
            "enrolled_on": ("date", "2026-03-09"),
            "last_login": ("timestamp", "2026-11-19T08:15:00Z"),
            "paid": ("boolean", True),
            "courses": ("array", ["mba", "law"]),
            "score": ("numeric", 42),
        },
    )
    make_event(customer, from_stage=None, to_stage="lead")
    page = logged_in.get(f"/customers/{customer.pk}/").content.decode()
    assert "Meera Nair" in page and customer.lms_lead_id in page
    assert "9 Mar 2026" in page
    assert "19 Nov 2026, 08:15 UTC" in page
    assert ">yes<" in page
    assert '<span class="badge text-bg-secondary">mba</span>' in page
    assert "(entered)</span> → lead" in page


def test_the_detail_page_shows_timestamps_in_the_server_time_zone(logged_in, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    customer = make_customer(attributes={"last_login": ("timestamp", "2026-11-19T08:15:00Z")})
    page = logged_in.get(f"/customers/{customer.pk}/").content.decode()
    assert "19 Nov 2026, 13:45 IST" in page


def test_the_detail_tables_page_independently(logged_in):
    customer = make_customer(attributes={f"a{n:02d}": ("numeric", n) for n in range(55)})
    for n in range(3):
        make_event(customer, to_stage=f"stage{n}")
    response = logged_in.get(f"/customers/{customer.pk}/?attributes-page=2&events-sort=created")
    attributes = [a.field_name for a in records(response.context["attributes"])]
    events = [e.to_stage for e in records(response.context["events"])]
    assert attributes == [f"a{n:02d}" for n in range(50, 55)]
    assert events == ["stage0", "stage1", "stage2"]


def test_the_detail_page_costs_a_fixed_number_of_queries(logged_in, django_assert_max_num_queries):
    customer = make_customer(attributes={f"a{n}": ("string", "x") for n in range(20)})
    for n in range(20):
        make_event(customer, to_stage=f"s{n}")
    # session, user, customer, and a count and a page for each of the two tables,
    # the count of the Messages panel automations adds (no messages: no page), and
    # its Email subscription panel: the suppression lookup and the changes' count
    with django_assert_max_num_queries(12):  # +2: the user's permissions (role check, nav)
        logged_in.get(f"/customers/{customer.pk}/")


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_an_unknown_customer_is_a_404(logged_in, pk):
    assert logged_in.get(f"/customers/{pk}/").status_code == 404


# -- the interface the segments pages reuse ----------------------------------------


def test_the_filter_and_table_work_on_any_customer_queryset():
    wanted = make_customer(first_name="Kavya")
    make_customer(first_name="Kavya")  # not in the queryset given
    make_customer(first_name="Rohan")
    members = Customer.objects.filter(pk__in=[wanted.pk, wanted.pk + 2])
    filterset = CustomerFilter({"q": "kavya"}, queryset=members)
    assert list(filterset.qs) == [wanted]
    table = CustomerTable(filterset.qs)
    assert [row.record for row in table.rows] == [wanted]


def test_the_unfiltered_list_of_a_large_table_shows_the_planner_estimate(logged_in, monkeypatch):
    make_customers(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers")
    monkeypatch.setattr("marketing_os.pagination.ESTIMATE_ABOVE", 2)
    response = get_list(logged_in)
    assert response.context["table"].paginator.is_estimate
    assert "About 3 results" in response.content.decode()


def test_a_search_with_very_many_matches_says_more_than(logged_in, monkeypatch):
    make_customers(4, first_name="Many")
    monkeypatch.setattr("marketing_os.pagination.CAP", 3)
    assert "More than 3 results" in get_list(logged_in, q="many").content.decode()


def test_a_page_past_the_count_cap_can_still_be_opened(logged_in, monkeypatch):
    make_customers(6, first_name="Many")
    monkeypatch.setattr("marketing_os.pagination.CAP", 2)
    response = logged_in.get("/customers/", {"q": "many", "per_page": 2, "page": 3})
    table = response.context["table"]
    assert table.page.number == 3
    assert len(table.page.object_list) == 2


@pytest.mark.parametrize("per_page", ["-1", "0", "abc", "100000"])
@pytest.mark.parametrize("path", ["/customers/", "/segments/", "/templates/", "/imports/"])
def test_any_per_page_in_the_address_shows_a_page_of_at_most_200_rows(logged_in, path, per_page):
    make_customers(3)
    response = logged_in.get(path, {"per_page": per_page})
    assert response.status_code == 200
    assert 1 <= response.context["table"].paginator.per_page <= 200


def test_an_absurdly_deep_page_of_a_filtered_list_still_answers(logged_in):
    make_customers(2, first_name="Many")
    response = logged_in.get("/customers/", {"q": "many", "page": "1" + "0" * 20})
    assert response.status_code == 200


def test_a_nul_character_is_a_form_error_not_a_failure(logged_in):
    make_customer()
    response = get_list(logged_in, q="a\x00b", value="\x00")
    assert response.context["filter"].errors
    assert "Null characters are not allowed." in response.content.decode()


def test_the_filter_searches_a_queryset_from_a_plain_manager_too():
    wanted = make_customer(first_name="Ishaan", attributes={"city": ("string", "Goa")})
    make_customer(first_name="Ishaan")
    filterset = CustomerFilter(
        {"q": "ish", "attribute": "city"}, queryset=Customer._base_manager.all()
    )
    assert list(filterset.qs) == [wanted]
