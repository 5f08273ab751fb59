"""Plain factory functions. Data goes in through the real ingest functions."""

from datetime import UTC, datetime
from itertools import count

from django.contrib.auth import get_user_model

from customers.ingest import ingest_attributes, ingest_customers
from customers.models import Customer
from funnel.ingest import ingest_events
from funnel.models import FunnelEvent
from marketing_os.roles import Role, create_role_groups, set_role

_serial = count(1)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PASSWORD = "a-long-test-password"


def make_customer(*, attributes: dict | None = None, now: datetime = NOW, **fields) -> Customer:
    """One customer; `attributes` maps name → (type, value)."""
    serial = next(_serial)
    item = {
        "lms_lead_id": f"LMS-{serial:06d}",
        "first_name": "Asha",
        "last_name": f"Verma{serial}",
        "email": f"asha{serial}@example.com",
        "mobile": f"+91 90000 {serial:05d}",
    } | fields
    item["attributes"] = [
        {"field_name": name, "field_type": kind, "field_value": value}
        for name, (kind, value) in (attributes or {}).items()
    ]
    result = ingest_customers([item], now=now)
    assert not result.errors, result.errors
    return Customer.objects.get(pk=result.results[0]["id"])


def make_customers(n: int, *, now: datetime = NOW, **fields) -> list[Customer]:
    return [make_customer(now=now, **fields) for _ in range(n)]


def make_attribute(customer: Customer, name: str, kind: str, value, *, now=NOW) -> None:
    item = {
        "customer_id": customer.pk,
        "field_name": name,
        "field_type": kind,
        "field_value": value,
    }
    result = ingest_attributes([item], now=now)
    assert not result.errors, result.errors


def make_event(
    customer: Customer,
    *,
    funnel_type="sales",
    from_stage="lead",
    to_stage="contacted",
    now: datetime = NOW,
    **fields,
) -> FunnelEvent:
    item = {
        "customer_id": customer.pk,
        "funnel_type": funnel_type,
        "from_stage": from_stage,
        "to_stage": to_stage,
    } | fields
    result = ingest_events([item], now=now)
    assert not result.errors, result.errors
    return FunnelEvent.objects.get(pk=result.ids[0])


def make_user(username: str, role: Role | None, **fields):
    """A user with this role (None: no role). Creates the role groups when a transactional
    test's flush has removed them (the migration that made them ran only once)."""
    create_role_groups()
    fields = {"email": f"{username}@example.com"} | fields
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)
    set_role(user, role)
    return user
