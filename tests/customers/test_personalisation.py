import json

import pytest

from customers.personalisation import customer_context, customer_data_many, sample_context
from tests.factories import make_customer


@pytest.mark.django_db
def test_a_customer_becomes_plain_json_data_with_typed_attributes():
    customer = make_customer(
        first_name="Asha",
        last_name="Verma",
        email="asha@example.com",
        mobile="+91 90000 00001",
        attributes={
            "score": ("numeric", 82.5),
            "intake": ("date", "2027-01-15"),
            "paid": ("boolean", False),
            "interests": ("array", ["Data"]),
        },
    )
    context = customer_context(customer, unsubscribe_url="https://x/u/1/")
    assert context == {
        "customer": {
            "id": customer.pk,
            "lms_lead_id": customer.lms_lead_id,
            "first_name": "Asha",
            "last_name": "Verma",
            "email": "asha@example.com",
            "mobile": "+91 90000 00001",
            "attributes": {
                "score": 82.5,
                "intake": "2027-01-15",
                "paid": False,
                "interests": ["Data"],
            },
        },
        "unsubscribe_url": "https://x/u/1/",
    }
    json.dumps(context)  # plain data only: nothing but JSON types


def test_the_sample_customer_has_every_attribute_type_and_is_a_fresh_copy():
    first = sample_context(unsubscribe_url="u")
    first["customer"]["attributes"]["course"] = "changed"
    attributes = sample_context(unsubscribe_url="u")["customer"]["attributes"]
    assert attributes["course"] == "MBA in Business Analytics"
    kinds = {type(value) for value in attributes.values()}
    assert kinds == {str, float, bool, list}


@pytest.mark.django_db
def test_customer_data_many_gives_what_customer_context_gives_for_each_customer():
    rich = make_customer(attributes={"course": ("string", "MBA"), "score": ("numeric", 82.5)})
    bare = make_customer(email="")
    many = customer_data_many([rich.pk, bare.pk])
    for customer in (rich, bare):
        assert many[customer.pk] == customer_context(customer, unsubscribe_url="u")["customer"]
