import pytest
from django.urls import reverse

from segments.models import CustomerSegment, SegmentMember
from tests.factories import make_customer, make_customers
from tests.segments.factories import make_manual_segment, make_segment, make_sql_segment

pytestmark = pytest.mark.django_db


def test_the_list_needs_a_login(client):
    response = client.get(reverse("segments:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_shows_name_type_count_or_dash(logged_in):
    make_segment("Counted", last_count=1234)
    make_segment("Never counted", type=CustomerSegment.Type.SQL, selection_sql="SELECT 1")
    page = logged_in.get(reverse("segments:list")).content.decode()
    assert "Counted" in page and "1,234" in page
    assert "Never counted" in page and "—" in page


def test_the_list_searches_by_name_and_filters_by_type(logged_in):
    make_segment("Pune leads")
    make_segment("Pune SQL", type=CustomerSegment.Type.SQL, selection_sql="SELECT 1")
    make_segment("Delhi leads")
    page = logged_in.get(reverse("segments:list"), {"q": "pune", "type": "sql"}).content.decode()
    assert "Pune SQL" in page
    assert "Pune leads" not in page and "Delhi leads" not in page


def test_the_list_paginates_in_sql_with_few_queries(logged_in, django_assert_max_num_queries):
    for n in range(60):
        make_segment(f"Segment {n:02d}")
    with django_assert_max_num_queries(8):
        response = logged_in.get(reverse("segments:list"), {"page": 2})
    assert response.status_code == 200
    assert response.content.decode().count('href="/segments/') >= 10


def test_a_missing_segment_is_a_404(logged_in):
    assert logged_in.get(reverse("segments:detail", args=[999])).status_code == 404


def post_segment(client, url, **fields):
    data = {"name": "A segment", "type": "sql", "description": "", "upload_mode": "replace"}
    return client.post(url, data | fields)


def test_an_sql_segment_is_created_counted_and_shown(logged_in):
    make_customers(3)
    response = post_segment(
        logged_in, reverse("segments:new"), selection_sql="SELECT id FROM customers"
    )
    segment = CustomerSegment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/segments/{segment.pk}/"
    assert segment.last_count == 3 and segment.last_evaluated_date is not None
    page = logged_in.get(response["Location"]).content.decode()
    assert "SELECT id" in page and "FROM customers" in page and 'id="member-count">3<' in page


def test_saving_an_invalid_sql_segment_is_refused_and_keeps_what_was_typed(logged_in):
    sql = "SELECT id\nFROM customers\nWHERE no_such_column = 1"
    response = post_segment(logged_in, reverse("segments:new"), selection_sql=sql)
    page = response.content.decode()
    assert response.status_code == 200 and not CustomerSegment.objects.exists()
    assert "column &quot;no_such_column&quot; does not exist" in page
    assert "line 3, column 7" in page
    assert "no_such_column = 1\n      ^" in page
    assert "WHERE no_such_column = 1</textarea>" in page


def test_saving_a_refused_sql_segment_says_why(logged_in):
    response = post_segment(
        logged_in, reverse("segments:new"), selection_sql="SELECT 1; DROP TABLE customers"
    )
    assert "exactly one SELECT statement" in response.content.decode()
    assert not CustomerSegment.objects.exists()


def test_preview_shows_count_first_customers_and_time_without_saving(logged_in):
    customers = make_customers(22)
    response = post_segment(
        logged_in, reverse("segments:new"), selection_sql="SELECT id FROM customers", preview="1"
    )
    page = response.content.decode()
    assert response.status_code == 200 and not CustomerSegment.objects.exists()
    assert 'id="preview-count">22<' in page and "first 20 shown" in page
    assert customers[0].lms_lead_id in page and customers[21].lms_lead_id not in page
    assert "SELECT id FROM customers</textarea>" in page


def test_preview_of_bad_sql_shows_the_error_next_to_the_sql(logged_in):
    response = post_segment(
        logged_in, reverse("segments:new"), selection_sql="SELECT pg_sleep(60)", preview="1"
    )
    page = response.content.decode()
    assert "pg_sleep() is not allowed" in page and "line 1, column 8" in page


def test_preview_works_with_the_name_still_empty(logged_in):
    make_customer()
    response = post_segment(
        logged_in,
        reverse("segments:new"),
        name="",
        selection_sql="SELECT id FROM customers",
        preview="1",
    )
    assert 'id="preview-count">1<' in response.content.decode()
    assert "This field is required" not in response.content.decode()


def test_a_function_segment_is_created_from_the_dropdown_of_handlers(logged_in):
    make_customer()
    page = logged_in.get(reverse("segments:new")).content.decode()
    assert "no_funnel_events" in page and "Customers with no funnel event at all." in page
    response = post_segment(
        logged_in, reverse("segments:new"), type="function", handler_function="no_funnel_events"
    )
    segment = CustomerSegment.objects.get()
    assert response.status_code == 302 and segment.handler_function == "no_funnel_events"
    assert segment.last_count == 1 and segment.selection_sql is None
    assert (
        "Customers with no funnel event at all."
        in logged_in.get(response["Location"]).content.decode()
    )


def test_an_unregistered_handler_cannot_be_saved(logged_in):
    response = post_segment(
        logged_in, reverse("segments:new"), type="function", handler_function="os.system"
    )
    assert response.status_code == 200 and not CustomerSegment.objects.exists()
    assert "Select a valid choice" in response.content.decode()


def test_editing_the_sql_re_evaluates_the_members(logged_in):
    ravi = make_customer(first_name="Ravi")
    make_customer(first_name="Meena")
    segment = make_sql_segment("SELECT id FROM customers")
    post_segment(
        logged_in,
        reverse("segments:edit", args=[segment.pk]),
        name=segment.name,
        selection_sql="SELECT id FROM customers WHERE first_name = 'Ravi'",
    )
    segment.refresh_from_db()
    assert segment.last_count == 1
    assert list(SegmentMember.objects.values_list("customer_id", flat=True)) == [ravi.pk]


def test_switching_type_clears_the_other_types_definition(logged_in):
    segment = make_sql_segment("SELECT id FROM customers")
    post_segment(
        logged_in, reverse("segments:edit", args=[segment.pk]), name=segment.name, type="manual"
    )
    segment.refresh_from_db()
    assert segment.type == "manual" and segment.selection_sql is None


def test_a_handler_failing_after_save_is_reported_not_a_500(logged_in, monkeypatch):
    from segments import handlers

    def broken(*, now):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        handlers.REGISTRY, "no_funnel_events", handlers.Handler("no_funnel_events", "x", broken)
    )
    response = post_segment(
        logged_in, reverse("segments:new"), type="function", handler_function="no_funnel_events"
    )
    page = logged_in.get(response["Location"]).content.decode()
    assert "Saved, but: Handler &#x27;no_funnel_events&#x27; failed: RuntimeError: boom" in page


def test_re_evaluate_records_a_new_count(logged_in):
    segment = make_sql_segment("SELECT id FROM customers")
    make_customers(2)
    response = logged_in.post(reverse("segments:evaluate", args=[segment.pk]), follow=True)
    segment.refresh_from_db()
    assert segment.last_count == 2 and "2 members" in response.content.decode()


def test_a_manual_segment_shows_its_list_size(logged_in):
    segment = make_manual_segment(make_customers(2))
    page = logged_in.get(reverse("segments:detail", args=[segment.pk])).content.decode()
    assert "A manual list of <strong>2</strong> customers" in page


@pytest.mark.parametrize(
    "params",
    [{"type": "bogus"}, {"q": "x" * 500}, {"page": "abc"}, {"sort": "nonsense"}, {"page": "-1"}],
)
def test_odd_list_parameters_never_give_a_500(logged_in, params):
    make_segment("One")
    assert logged_in.get(reverse("segments:list"), params).status_code in {200, 404}


def test_a_duplicate_name_is_refused_on_the_form(logged_in):
    make_segment("Taken")
    response = post_segment(
        logged_in, reverse("segments:new"), name="Taken", selection_sql="SELECT id FROM customers"
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert CustomerSegment.objects.count() == 1


def test_a_segment_sql_too_long_is_refused(logged_in):
    sql = "SELECT id FROM customers WHERE " + " OR ".join(["id = 1"] * 4000)
    response = post_segment(logged_in, reverse("segments:new"), selection_sql=sql)
    assert response.status_code == 200 and not CustomerSegment.objects.exists()
    assert "at most 20000 characters" in response.content.decode()
