from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils.http import urlencode

from tests.factories import NOW, make_customer, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forget_known_stages():
    cache.clear()  # the stage suggestions are cached between requests


def event_ids(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].page.object_list]


def get_list(client, **params):
    response = client.get("/events/?" + urlencode(params))
    assert response.status_code == 200
    return response


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    event = make_event(make_customer())
    for path in ("/events/", f"/events/{event.pk}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_it_lists_events_newest_first_with_their_customer(logged_in):
    customer = make_customer(first_name="Kavya", last_name="Iyer")
    old = make_event(customer, created_date="2026-11-01T10:00:00Z")
    new = make_event(customer, created_date="2026-11-02T10:00:00Z")
    response = get_list(logged_in)
    assert event_ids(response) == [new.pk, old.pk]
    page = response.content.decode()
    assert f'href="/customers/{customer.pk}/">Kavya Iyer</a>' in page
    assert f'href="/events/{new.pk}/"' in page
    assert "lead → contacted" in page


def test_it_finds_events_by_their_customer(logged_in):
    priya = make_customer(first_name="Priya", last_name="Sharma")
    wanted = make_event(priya)
    make_event(make_customer(first_name="Rahul"))
    assert event_ids(get_list(logged_in, q="priya sha")) == [wanted.pk]


def test_it_narrows_to_one_customer_and_names_them(logged_in):
    customer = make_customer(first_name="Neha", last_name="Das")
    wanted = make_event(customer)
    make_event(make_customer())
    response = get_list(logged_in, customer=customer.pk)
    assert event_ids(response) == [wanted.pk]
    assert "Events of <a" in response.content.decode()


def test_it_filters_by_funnel_and_stages(logged_in):
    customer = make_customer()
    applied = make_event(customer, from_stage="contacted", to_stage="applied")
    make_event(customer, from_stage="lead", to_stage="contacted")
    service = make_event(
        customer, funnel_type="service-delivery", from_stage="onboarding", to_stage="applied"
    )
    assert event_ids(get_list(logged_in, to_stage="applied")) == sorted(
        [applied.pk, service.pk], reverse=True
    )
    assert event_ids(get_list(logged_in, to_stage="applied", funnel_type="sales")) == [applied.pk]
    assert event_ids(get_list(logged_in, from_stage="onboarding")) == [service.pk]


def test_it_filters_by_date_range_inclusive_of_both_days(logged_in):
    customer = make_customer()
    make_event(customer, created_date="2026-11-01T23:59:59Z")
    first = make_event(customer, created_date="2026-11-02T00:00:00Z")
    last = make_event(customer, created_date="2026-11-03T23:59:59Z")
    make_event(customer, created_date="2026-11-04T00:00:00Z")
    response = get_list(logged_in, created_from="2026-11-02", created_to="2026-11-03")
    assert event_ids(response) == [last.pk, first.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"funnel_type": "marketing"},
        {"created_to": "yesterday"},
        {"customer": "abc"},
        {"customer": "-1"},
    ],
)
def test_it_shows_bad_filter_values_as_errors_not_failures(logged_in, params):
    make_event(make_customer())
    response = get_list(logged_in, **params)
    assert response.context["filter"].errors
    assert len(event_ids(response)) == 1  # the bad filter is left out


def test_it_treats_sql_in_every_field_as_plain_text(logged_in):
    make_event(make_customer())
    evil = "x'; DELETE FROM funnel_events; --"
    response = get_list(logged_in, q=evil, from_stage=evil, to_stage=evil)
    assert "No funnel events match this search" in response.content.decode()


def test_page_two_holds_the_next_events_and_keeps_the_search(logged_in):
    customer = make_customer(first_name="Paged")
    for _ in range(55):
        make_event(customer, to_stage="applied", created_date=NOW.isoformat())
    page_one = event_ids(get_list(logged_in, to_stage="applied"))
    response = get_list(logged_in, to_stage="applied", page=2)
    assert len(page_one) == 50 and len(event_ids(response)) == 5
    assert not set(page_one) & set(event_ids(response))
    assert "to_stage=applied" in response.content.decode().split('class="pagination')[1]


def test_it_ignores_unknown_sorts_and_sorts_by_time_both_ways(logged_in):
    customer = make_customer()
    old = make_event(customer, created_date=(NOW - timedelta(days=1)).isoformat())
    new = make_event(customer, created_date=NOW.isoformat())
    assert event_ids(get_list(logged_in, sort="created")) == [old.pk, new.pk]
    assert event_ids(get_list(logged_in, sort="customer__email")) == [new.pk, old.pk]
    assert event_ids(get_list(logged_in, sort="page=abc", page="abc")) == [new.pk, old.pk]


def test_the_list_makes_no_query_per_event(logged_in, django_assert_max_num_queries):
    for _ in range(60):
        make_event(make_customer(), to_stage="applied")
    get_list(logged_in)  # caches the stage suggestions
    # session, user, count, page (customers joined in)
    with django_assert_max_num_queries(6):  # +2: the user's permissions (role check, nav)
        response = get_list(logged_in, funnel_type="sales")
    assert len(event_ids(response)) == 50


def test_the_detail_page_shows_the_event_and_links_to_its_customer(logged_in):
    customer = make_customer(first_name="Arjun", last_name="Reddy")
    event = make_event(
        customer, from_stage=None, to_stage="lead", created_date="2026-11-19T08:15:00Z"
    )
    page = logged_in.get(f"/events/{event.pk}/").content.decode()
    assert f'href="/customers/{customer.pk}/">Arjun Reddy</a>' in page
    assert "(entered the funnel)" in page
    assert "19 Nov 2026, 08:15:00 UTC" in page


def test_the_detail_page_shows_the_time_in_the_server_time_zone(logged_in, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    event = make_event(make_customer(), created_date="2026-11-19T08:15:00Z")
    assert "13:45:00 IST" in logged_in.get(f"/events/{event.pk}/").content.decode()


def test_the_detail_page_costs_a_fixed_number_of_queries(logged_in, django_assert_num_queries):
    event = make_event(make_customer())
    # session, user, its permissions (2), event joined with its customer
    with django_assert_num_queries(5):
        logged_in.get(f"/events/{event.pk}/")


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_an_unknown_event_is_a_404(logged_in, pk):
    assert logged_in.get(f"/events/{pk}/").status_code == 404


def test_dates_use_the_server_time_zone_for_day_boundaries(logged_in, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # 2 Nov IST starts at 1 Nov 18:30 UTC
    customer = make_customer()
    inside = make_event(customer, created_date="2026-11-01T18:30:00Z")
    make_event(customer, created_date="2026-11-01T18:29:59Z")
    response = get_list(logged_in, created_from="2026-11-02")
    assert event_ids(response) == [inside.pk]


def test_the_stage_fields_suggest_every_stage_in_use(logged_in):
    customer = make_customer()
    make_event(customer, from_stage=None, to_stage="lead")
    make_event(customer, funnel_type="service-delivery", from_stage="kickoff", to_stage="live")
    page = get_list(logged_in).content.decode()
    options = page.split('<datalist id="known-stages">')[1].split("</datalist>")[0]
    assert options == "".join(f'<option value="{stage}">' for stage in ("kickoff", "lead", "live"))
    assert 'list="known-stages"' in page
