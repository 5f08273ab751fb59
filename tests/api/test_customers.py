import pytest

from customers.models import Customer, CustomerAttribute
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def attributes_of(lms_lead_id: str) -> dict:
    rows = CustomerAttribute.objects.filter(customer__lms_lead_id=lms_lead_id)
    return {row.field_name: (row.field_type, row.field_value) for row in rows}


def test_it_creates_customers_and_answers_what_happened_to_each_item(api):
    response = api.post(
        "customers",
        [
            {"lms_lead_id": "L-1", "first_name": "Asha", "email": "asha@example.com"},
            {"lms_lead_id": "L-2", "mobile": "+91 98765 43210"},
        ],
    )

    assert response.status_code == 200
    ids = dict(Customer.objects.values_list("lms_lead_id", "id"))
    assert response.json() == {
        "created": 2,
        "updated": 0,
        "results": [
            {"index": 0, "id": ids["L-1"], "lms_lead_id": "L-1", "status": "created"},
            {"index": 1, "id": ids["L-2"], "lms_lead_id": "L-2", "status": "created"},
        ],
    }


def test_it_accepts_a_single_object_as_one_item(api):
    response = api.post("customers", {"lms_lead_id": "L-1", "first_name": "Asha"})

    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "created"
    assert Customer.objects.get().first_name == "Asha"


def test_it_overwrites_fields_present_and_keeps_fields_absent(api):
    make_customer(lms_lead_id="L-1", first_name="Asha", email="old@example.com", mobile="+91 1")

    response = api.post(
        "customers", {"lms_lead_id": "L-1", "email": "new@example.com", "mobile": None}
    )

    assert response.json()["updated"] == 1
    customer = Customer.objects.get(lms_lead_id="L-1")
    assert (customer.first_name, customer.email, customer.mobile) == (
        "Asha",
        "new@example.com",
        None,
    )


def test_it_upserts_attributes_by_name_and_keeps_the_others(api):
    make_customer(
        lms_lead_id="L-1", attributes={"city": ("string", "Pune"), "score": ("numeric", 1)}
    )

    api.post(
        "customers",
        {
            "lms_lead_id": "L-1",
            "attributes": [
                {"field_name": "score", "field_type": "numeric", "field_value": "72.5"},
                {"field_name": "tags", "field_type": "array", "field_value": ["ai", "data"]},
            ],
        },
    )

    assert attributes_of("L-1") == {
        "city": ("string", "Pune"),
        "score": ("numeric", 72.5),
        "tags": ("array", ["ai", "data"]),
    }


def test_it_answers_422_naming_every_bad_item_and_stores_nothing(api):
    response = api.post(
        "customers",
        [
            {"lms_lead_id": "L-1", "first_name": "fine"},
            {"first_name": "no id"},
            {"lms_lead_id": "L-3", "email": 5.5},
            {"lms_lead_id": "L-4", "attributes": [
                {"field_name": "ok", "field_type": "string", "field_value": "x"},
                {"field_name": "paid", "field_type": "boolean", "field_value": "maybe"}]},
            "not an object",
        ],
    )  # fmt: skip

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "lms_lead_id"),
        (2, "email"),
        (3, "attributes[1].field_value"),
        (4, "item"),
    ]
    assert all(e["message"] for e in errors)
    assert not Customer.objects.exists()
    assert not CustomerAttribute.objects.exists()


def test_attributes_endpoint_upserts_by_customer_and_name(api):
    customer = make_customer(lms_lead_id="L-1", attributes={"city": ("string", "Pune")})

    response = api.post(
        "customer-attributes",
        [
            {"lms_lead_id": "L-1", "field_name": "city", "field_type": "string",
             "field_value": "Goa"},
            {"customer_id": customer.pk, "field_name": "enrolled", "field_type": "boolean",
             "field_value": "true"},
        ],
    )  # fmt: skip

    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 1}
    assert attributes_of("L-1") == {"city": ("string", "Goa"), "enrolled": ("boolean", True)}


def test_attributes_endpoint_answers_422_for_unknown_customers_and_stores_nothing(api):
    make_customer(lms_lead_id="L-1")

    response = api.post(
        "customer-attributes",
        [
            {"lms_lead_id": "L-1", "field_name": "a", "field_type": "string", "field_value": "x"},
            {"lms_lead_id": "ghost", "field_name": "a", "field_type": "string", "field_value": "x"},
            {"customer_id": 999999, "field_name": "a", "field_type": "string", "field_value": "x"},
            {"lms_lead_id": "L-1", "field_name": "d", "field_type": "date", "field_value": "soon"},
        ],
    )

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "lms_lead_id"),
        (2, "customer_id"),
        (3, "field_value"),
    ]
    assert not CustomerAttribute.objects.exists()


def test_it_reads_one_customer_with_attributes(api):
    make_customer(lms_lead_id="L/1", first_name="Asha", attributes={"city": ("string", "Pune")})

    response = api.get("customers/L/1")

    assert response.status_code == 200
    body = response.json()
    assert (body["lms_lead_id"], body["first_name"]) == ("L/1", "Asha")
    assert body["attributes"] == [
        {"field_name": "city", "field_type": "string", "field_value": "Pune"}
    ]


def test_reading_an_unknown_customer_answers_json_404(api):
    response = api.get("customers/ghost")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_reading_a_customer_whose_id_holds_a_nul_character_answers_json_404(api):
    response = api.get("customers/a%00b")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_reading_a_customer_needs_a_key(api):
    make_customer(lms_lead_id="L-1")

    assert api.get("customers/L-1", key=None).status_code == 401


def test_a_batch_costs_the_same_few_queries_whatever_its_size(api, django_assert_max_num_queries):
    items = [
        {"lms_lead_id": f"L-{n}", "attributes": [
            {"field_name": "city", "field_type": "string", "field_value": "Pune"}]}
        for n in range(200)
    ]  # fmt: skip

    with django_assert_max_num_queries(12):
        response = api.post("customers", items, headers={"Idempotency-Key": "batch"})

    assert response.json()["created"] == 200
