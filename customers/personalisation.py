"""A customer as the plain data a message template sees.

Templates never get a model instance: only the dict built here, so nothing but
these fields is reachable from Liquid. The preview, the test send and the
automation sender all build their context with `customer_context`.
"""

import json

from django.db import connection

from customers.models import Customer

SAMPLE_CUSTOMER = {
    "id": 0,
    "lms_lead_id": "SAMPLE-0001",
    "first_name": "Priya",
    "last_name": "Sharma",
    "email": "priya.sharma@example.com",
    "mobile": "+91 98765 43210",
    "attributes": {
        "course": "MBA in Business Analytics",
        "intake_date": "2027-01-15",
        "application_status": "documents pending",
        "application_score": 82.5,
        "scholarship_eligible": True,
        "last_login": "2026-11-20T14:05:00+00:00",
        "interests": ["Data science", "Finance"],
    },
}


def customer_context(customer: Customer, *, unsubscribe_url: str) -> dict:
    """The render context for `customer` (prefetch `attributes` when doing many).

    Attribute values keep their JSON form, as stored: numbers, strings,
    booleans, arrays; dates as "YYYY-MM-DD" and timestamps as ISO 8601 strings
    (Liquid's `date` filter reads both: `{{ customer.attributes.intake_date |
    date: "%d %B %Y" }}`).
    """
    return {
        "customer": {
            "id": customer.pk,
            "lms_lead_id": customer.lms_lead_id,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "mobile": customer.mobile,
            "attributes": {a.field_name: a.field_value for a in customer.attributes.all()},
        },
        "unsubscribe_url": unsubscribe_url,
    }


def sample_context(*, unsubscribe_url: str) -> dict:
    """A made-up customer with every attribute type, for previews on an empty database."""
    customer = SAMPLE_CUSTOMER | {"attributes": dict(SAMPLE_CUSTOMER["attributes"])}
    return {"customer": customer, "unsubscribe_url": unsubscribe_url}


CUSTOMER_DATA = """
    SELECT c.id, c.lms_lead_id, c.first_name, c.last_name, c.email, c.mobile,
           coalesce((SELECT jsonb_object_agg(a.field_name, a.field_value)
                     FROM customer_attributes a WHERE a.customer_id = c.id), '{}'::jsonb)
    FROM customers c WHERE c.id = ANY(%s)
"""
CUSTOMER_FIELDS = ("id", "lms_lead_id", "first_name", "last_name", "email", "mobile")


def customer_data_many(customer_ids: list[int]) -> dict[int, dict]:
    """`customer_context(...)["customer"]` for many customers in one query, by id.

    For the sender, which renders hundreds of recipients a second: plain rows,
    no model instances. The dict is the same as `customer_context` builds.
    """
    with connection.cursor() as cursor:
        cursor.execute(CUSTOMER_DATA, [list(customer_ids)])
        rows = cursor.fetchall()
    return {
        row[0]: dict(zip(CUSTOMER_FIELDS, row[:6], strict=True)) | {"attributes": _json(row[6])}
        for row in rows
    }


def _json(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else value
