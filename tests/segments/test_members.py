import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from segments.evaluation import segment_customers
from segments.members import UploadRefused, upload_members
from segments.models import CustomerSegment, CustomerSegmentCustomer
from tests.factories import make_customer, make_customers
from tests.segments.factories import make_manual_segment, make_sql_segment

pytestmark = pytest.mark.django_db


def csv_file(text: str, name: str = "members.csv") -> io.BytesIO:
    file = io.BytesIO(text.encode())
    file.name = name
    return file


def member_ids(segment) -> list[int]:
    return sorted(segment_customers(segment).values_list("pk", flat=True))


def upload(segment, text: str, *, mode: str = "replace", now=None):
    return upload_members(segment, csv_file(text), mode=mode, user=None, now=now)


def test_it_adds_customers_by_id_and_reports_unknown_ids_by_line(now):
    first, second = make_customers(2)
    segment = make_manual_segment([])
    result = upload(segment, f"customer_id\n{first.pk}\n999999\n{second.pk}\nabc\n", now=now)
    assert member_ids(segment) == sorted([first.pk, second.pk])
    assert (result.lines, result.added, result.unmatched_count) == (4, 2, 2)
    assert result.unmatched == [[3, "999999"], [5, "abc"]]


def test_it_matches_by_lms_lead_id(now):
    customer = make_customer(lms_lead_id="LEAD-77")
    segment = make_manual_segment([])
    upload(segment, "lms_lead_id\nLEAD-77\nLEAD-78\n", now=now)
    assert member_ids(segment) == [customer.pk]


def test_it_matches_by_email_ignoring_case_and_adds_everyone_sharing_it(now):
    one = make_customer(email="family@example.com")
    two = make_customer(email="Family@Example.com")
    make_customer(email="other@example.com")
    segment = make_manual_segment([])
    result = upload(segment, "email\nFAMILY@example.com\n", now=now)
    assert member_ids(segment) == sorted([one.pk, two.pk]) and result.added == 2


def test_replace_drops_the_old_list_and_add_keeps_it(now):
    old, new, newer = make_customers(3)
    segment = make_manual_segment([old])
    upload(segment, f"customer_id\n{new.pk}\n", mode="replace", now=now)
    assert member_ids(segment) == [new.pk]
    upload(segment, f"customer_id\n{newer.pk}\n{new.pk}\n", mode="add", now=now)
    assert member_ids(segment) == sorted([new.pk, newer.pk])


def test_duplicate_lines_count_once(now):
    customer = make_customer()
    segment = make_manual_segment([])
    result = upload(segment, f"customer_id\n{customer.pk}\n{customer.pk}\n", now=now)
    assert result.added == 1 and member_ids(segment) == [customer.pk]


def test_a_bom_other_columns_and_header_case_are_fine(now):
    customer = make_customer(lms_lead_id="L-1")
    segment = make_manual_segment([])
    upload(segment, "\ufeffName,LMS_Lead_Id\nAsha,L-1\n", now=now)
    assert member_ids(segment) == [customer.pk]


def test_a_line_without_the_key_and_a_bad_line_are_reported(now):
    customer = make_customer(lms_lead_id="L-1")
    segment = make_manual_segment([])
    result = upload(segment, "lms_lead_id,name\nL-1,Asha\n,Nobody\nL-2,a,b\n", now=now)
    assert member_ids(segment) == [customer.pk]
    assert [line for line, _ in result.unmatched] == [3, 4]
    assert result.unmatched[0][1] == "(no lms_lead_id)" and "cells" in result.unmatched[1][1]


def test_a_file_without_a_key_column_is_refused_and_changes_nothing(now):
    customer = make_customer()
    segment = make_manual_segment([customer])
    with pytest.raises(UploadRefused, match="customer_id"):
        upload(segment, "name\nAsha\n", now=now)
    assert member_ids(segment) == [customer.pk]
    assert not segment.uploads.exists()


def test_a_file_that_is_not_utf8_is_refused(now):
    segment = make_manual_segment([])
    file = io.BytesIO("email\nJosé@example.com\n".encode("latin-1"))
    with pytest.raises(UploadRefused, match="UTF-8"):
        upload_members(segment, file, mode="replace", user=None, now=now)


def test_only_a_manual_segment_takes_an_upload(now):
    segment = make_sql_segment("SELECT id FROM customers")
    with pytest.raises(UploadRefused, match="manual"):
        upload(segment, "customer_id\n1\n", now=now)


def test_the_upload_is_recorded_in_the_history(now):
    segment = make_manual_segment([])
    upload(segment, "customer_id\n1\n", now=now)
    recorded = segment.uploads.get()
    assert (recorded.file_name, recorded.mode, recorded.key_column) == (
        "members.csv",
        "replace",
        "customer_id",
    )
    assert recorded.created_date == now


# -- through the page ----------------------------------------------------------


def test_a_manual_segment_is_created_with_an_uploaded_list_end_to_end(logged_in):
    known = make_customer(lms_lead_id="L-1")
    response = logged_in.post(
        reverse("segments:new"),
        {
            "name": "Webinar attendees",
            "type": "manual",
            "upload_mode": "replace",
            "members_file": SimpleUploadedFile("attendees.csv", b"lms_lead_id\nL-1\nL-404\n"),
        },
    )
    segment = CustomerSegment.objects.get()
    assert response.status_code == 302 and segment.last_count == 1
    assert list(CustomerSegmentCustomer.objects.values_list("customer_id", flat=True)) == [known.pk]
    page = logged_in.get(response["Location"]).content.decode()
    assert "2 lines read, 1 customers added; 1 lines matched no customer" in page
    assert "attendees.csv" in page and "<td>3</td><td>L-404</td>" in page
    customers = logged_in.get(reverse("segments:customers", args=[segment.pk])).content.decode()
    assert "L-1" in customers


def test_a_refused_file_is_reported_on_the_page(logged_in):
    response = logged_in.post(
        reverse("segments:new"),
        {
            "name": "Bad file",
            "type": "manual",
            "upload_mode": "replace",
            "members_file": SimpleUploadedFile("bad.csv", b"phone\n123\n"),
        },
        follow=True,
    )
    assert "Saved, but:" in response.content.decode()
    assert not CustomerSegmentCustomer.objects.exists()


def test_replace_keeps_who_stays_drops_who_left_and_adds_who_came(now):
    leaving, staying, coming = make_customers(3)
    segment = make_manual_segment([leaving, staying])
    result = upload(segment, f"customer_id\n{staying.pk}\n{coming.pk}\n", mode="replace", now=now)
    assert member_ids(segment) == sorted([staying.pk, coming.pk])
    assert result.added == 2  # the list's size after a replace


def test_replacing_a_list_with_itself_changes_nothing(now):
    customers = make_customers(3)
    segment = make_manual_segment(customers)
    before = set(CustomerSegmentCustomer.objects.filter(customer_segment=segment).values_list("pk"))
    csv = "customer_id\n" + "".join(f"{c.pk}\n" for c in customers)
    result = upload(segment, csv, mode="replace", now=now)
    after = set(CustomerSegmentCustomer.objects.filter(customer_segment=segment).values_list("pk"))
    assert result.added == 3 and after == before
