from datetime import UTC, datetime

import pytest

from customers.ingest import ingest_attributes, ingest_customers
from customers.models import Customer, CustomerAttribute
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def attributes_of(customer: Customer) -> dict:
    return {a.field_name: (a.field_type, a.field_value) for a in customer.attributes.all()}


def test_it_creates_then_updates_customers_by_lms_lead_id(now):
    first = ingest_customers([{"lms_lead_id": "L-1", "first_name": "Ravi"}], now=now)
    again = ingest_customers([{"lms_lead_id": "L-1", "first_name": "Ravi K"}], now=now)

    assert (first.created, first.updated) == (1, 0)
    assert (again.created, again.updated) == (0, 1)
    assert again.results == [
        {"index": 0, "id": first.results[0]["id"], "lms_lead_id": "L-1", "status": "updated"}
    ]
    assert Customer.objects.get().first_name == "Ravi K"


def test_it_keeps_fields_absent_from_an_update_and_clears_fields_sent_as_null(now):
    customer = make_customer(first_name="Meera", email="meera@example.com", mobile="+91 1")

    ingest_customers([{"lms_lead_id": customer.lms_lead_id, "mobile": None}], now=now)

    customer.refresh_from_db()
    assert (customer.first_name, customer.email, customer.mobile) == (
        "Meera",
        "meera@example.com",
        None,
    )


def test_it_merges_repeated_lms_lead_ids_in_one_batch_with_the_later_item_winning(now):
    result = ingest_customers(
        [
            {"lms_lead_id": "L-9", "first_name": "A", "email": "a@example.com"},
            {"lms_lead_id": "L-9", "first_name": "B"},
        ],
        now=now,
    )

    assert [r["status"] for r in result.results] == ["created", "updated"]
    customer = Customer.objects.get()
    assert (customer.first_name, customer.email) == ("B", "a@example.com")


def test_it_stores_nothing_when_any_item_is_invalid_unless_told_to_skip(now):
    items = [{"lms_lead_id": "ok"}, {"first_name": "no id"}, {"lms_lead_id": "x", "email": 5.5}]

    strict = ingest_customers(items, now=now)
    assert Customer.objects.count() == 0
    assert [(e.index, e.field) for e in strict.errors] == [(1, "lms_lead_id"), (2, "email")]

    lenient = ingest_customers(items, now=now, skip_invalid=True)
    assert lenient.created == 1 and lenient.skipped == 2
    assert list(Customer.objects.values_list("lms_lead_id", flat=True)) == ["ok"]


@pytest.mark.parametrize(
    ("field_type", "sent", "stored"),
    [
        ("numeric", 42, 42),
        ("numeric", "12.50", 12.5),
        ("numeric", "7", 7),
        ("string", "Mumbai", "Mumbai"),
        ("date", "2027-01-15", "2027-01-15"),
        ("timestamp", "2026-11-24T10:00:00+05:30", "2026-11-24T04:30:00Z"),
        ("timestamp", "2026-11-24T10:00:00", "2026-11-24T10:00:00Z"),
        ("boolean", True, True),
        ("boolean", "false", False),
        ("boolean", "YES", True),
        ("array", ["data", "ai"], ["data", "ai"]),
        ("array", '["data", "ai"]', ["data", "ai"]),
    ],
)
def test_it_stores_attribute_values_in_the_json_form_of_their_type(now, field_type, sent, stored):
    item = {
        "lms_lead_id": "L-1",
        "attributes": [{"field_name": "value", "field_type": field_type, "field_value": sent}],
    }

    result = ingest_customers([item], now=now)

    assert not result.errors
    assert attributes_of(Customer.objects.get()) == {"value": (field_type, stored)}


@pytest.mark.parametrize(
    ("field_type", "sent", "message"),
    [
        ("numeric", "twelve", "is not a number"),
        ("numeric", True, "not true/false"),
        ("numeric", "NaN", "finite"),
        ("string", 12, "must be a string"),
        ("date", "15/01/2027", "YYYY-MM-DD"),
        ("date", "2027-02-30", "YYYY-MM-DD"),
        ("timestamp", "yesterday", "ISO 8601"),
        ("boolean", "maybe", "true or false"),
        ("array", "[1,", "JSON array"),
        ("array", {"a": 1}, "must be an array"),
        ("array", ["a\x00b"], "NUL"),
        ("colour", "red", "must be one of"),
    ],
)
def test_it_refuses_attribute_values_that_do_not_fit_their_type(now, field_type, sent, message):
    customer = make_customer()
    item = {
        "customer_id": customer.pk,
        "field_name": "value",
        "field_type": field_type,
        "field_value": sent,
    }

    result = ingest_attributes([item], now=now)

    assert len(result.errors) == 1 and message in result.errors[0].message
    assert not CustomerAttribute.objects.exists()


def test_it_upserts_attributes_by_customer_and_name(now):
    customer = make_customer(attributes={"city": ("string", "Pune")})

    result = ingest_attributes(
        [
            {
                "lms_lead_id": customer.lms_lead_id,
                "field_name": "city",
                "field_type": "string",
                "field_value": "Delhi",
            },
            {
                "customer_id": customer.pk,
                "field_name": "intake_year",
                "field_type": "numeric",
                "field_value": "2027",
            },
        ],
        now=now,
    )

    assert (result.created, result.updated) == (1, 1)
    assert attributes_of(customer) == {
        "city": ("string", "Delhi"),
        "intake_year": ("numeric", 2027),
    }


def test_it_reports_unknown_customers_as_item_errors(now):
    customer = make_customer()
    items = [
        {"lms_lead_id": "nobody", "field_name": "a", "field_type": "string", "field_value": "x"},
        {"customer_id": 999999, "field_name": "a", "field_type": "string", "field_value": "x"},
        {
            "customer_id": customer.pk,
            "lms_lead_id": "nobody-else",
            "field_name": "a",
            "field_type": "string",
            "field_value": "x",
        },
    ]

    result = ingest_attributes(items, now=now)

    assert [(e.index, e.field) for e in result.errors] == [
        (0, "lms_lead_id"),
        (1, "customer_id"),
        (2, "lms_lead_id"),
    ]
    assert "no customer has lms_lead_id 'nobody'" in result.errors[0].message


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"lms_lead_id": ""}, "lms_lead_id"),
        ({"lms_lead_id": "x" * 256}, "lms_lead_id"),
        ({"lms_lead_id": "a\x00b"}, "lms_lead_id"),
        ({"lms_lead_id": ["a"]}, "lms_lead_id"),
        ({"lms_lead_id": "a", "nickname": "b"}, "nickname"),
        ({"lms_lead_id": "a", "attributes": "city=Pune"}, "attributes"),
        (
            {
                "lms_lead_id": "a",
                "attributes": [{"field_name": "1st", "field_type": "string", "field_value": "x"}],
            },
            "attributes[0].field_name",
        ),
        ("not an object", "item"),
    ],
)
def test_it_names_the_bad_field_of_a_customer_item(now, item, field):
    result = ingest_customers([item], now=now)

    assert [e.field for e in result.errors] == [field]


def test_it_stores_formula_looking_values_as_plain_text(now):
    ingest_customers([{"lms_lead_id": "L-1", "first_name": '=HYPERLINK("x")'}], now=now)

    assert Customer.objects.get().first_name == '=HYPERLINK("x")'


def test_it_stamps_created_and_updated_dates_with_the_given_time(now):
    later = datetime(2026, 12, 1, tzinfo=UTC)
    ingest_customers([{"lms_lead_id": "L-1"}], now=now)
    ingest_customers([{"lms_lead_id": "L-1", "first_name": "X"}], now=later)

    customer = Customer.objects.get()
    assert (customer.created_date, customer.updated_date) == (now, later)
