from io import StringIO
from itertools import groupby

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer, CustomerAttribute
from funnel.demo_data import load_demo_data
from funnel.models import FunnelEvent

pytestmark = pytest.mark.django_db


def test_it_loads_customers_with_attributes_of_every_type_and_events_of_both_funnels(now):
    summary = load_demo_data(60, seed=1, now=now, batch_size=25)

    assert Customer.objects.count() == summary.customers_created == 60
    assert Customer.objects.filter(lms_lead_id="LMS-2026-000060").exists()
    types = set(CustomerAttribute.objects.values_list("field_type", flat=True))
    assert types == set(CustomerAttribute.FieldType.values)
    funnels = set(FunnelEvent.objects.values_list("funnel_type", flat=True))
    assert funnels == {"sales", "service-delivery"}
    assert FunnelEvent.objects.count() == summary.events_created > 60


def test_its_values_have_the_types_their_attributes_claim(now):
    load_demo_data(20, seed=1, now=now)

    by_name = {a.field_name: a for a in CustomerAttribute.objects.all()}
    assert isinstance(by_name["intake_year"].field_value, int)
    assert isinstance(by_name["scholarship"].field_value, bool)
    assert isinstance(by_name["interests"].field_value, list)
    assert by_name["last_login"].field_value.endswith("Z")
    customer = Customer.objects.exclude(mobile=None).first()
    assert customer.mobile.startswith("+91 ")


def test_every_journey_walks_its_funnel_in_time_order_and_ends_before_now(now):
    load_demo_data(40, seed=3, now=now)

    events = FunnelEvent.objects.order_by("customer_id", "funnel_type", "created_date", "id")
    for _, journey in groupby(events, key=lambda e: (e.customer_id, e.funnel_type)):
        journey = list(journey)
        assert journey[0].from_stage is None
        for before, after in zip(journey, journey[1:], strict=False):
            assert after.from_stage == before.to_stage
            assert before.created_date <= after.created_date <= now


def test_a_second_run_updates_the_same_customers_and_adds_no_events(now):
    load_demo_data(30, seed=1, now=now)
    events = FunnelEvent.objects.count()

    again = load_demo_data(30, seed=1, now=now)

    assert (again.customers_created, again.customers_updated) == (0, 30)
    assert Customer.objects.count() == 30
    assert FunnelEvent.objects.count() == events
    assert again.events_created == 0


def test_a_larger_second_run_gives_events_to_the_new_customers_only(now):
    load_demo_data(20, seed=1, now=now)
    old_events = FunnelEvent.objects.count()

    bigger = load_demo_data(25, seed=1, now=now)

    assert bigger.customers_created == 5
    assert FunnelEvent.objects.count() == old_events + bigger.events_created
    newcomers = Customer.objects.filter(lms_lead_id__gt="LMS-2026-000020")
    assert FunnelEvent.objects.filter(customer__in=newcomers).count() == bigger.events_created


def test_the_same_seed_gives_the_same_people_and_another_seed_other_people(now):
    load_demo_data(5, seed=7, now=now)
    first = list(Customer.objects.order_by("lms_lead_id").values_list("email", "mobile"))

    load_demo_data(5, seed=7, now=now)
    same = list(Customer.objects.order_by("lms_lead_id").values_list("email", "mobile"))
    load_demo_data(5, seed=8, now=now)
    other = list(Customer.objects.order_by("lms_lead_id").values_list("email", "mobile"))

    assert same == first
    assert other != first


def test_the_command_prints_progress_and_a_summary():
    out = StringIO()

    call_command("load_demo_data", "--customers", "12", stdout=out)

    assert "12/12 customers" in out.getvalue()
    assert "customers: created 12, updated 0" in out.getvalue()
    assert Customer.objects.count() == 12


def test_the_command_refuses_a_customer_count_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("load_demo_data", "--customers", "0")
