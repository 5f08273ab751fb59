"""`erase_customer`: a person's data gone from every column of the database, the tombstone kept."""

import io
import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import IntegrityError, InternalError
from django.urls import reverse

from audit.actors import os_user
from audit.models import AuditEntry
from automations.models import Delivery, Suppression
from automations.runs import run_automation
from automations.unsubscribe import resubscribe, unsubscribe
from automations.webhooks import record_event
from customers.csv_import import claim_job, create_job, run_import
from customers.models import Customer, CustomerAttribute, ErasedLead
from funnel.models import FunnelEvent
from marketing_os.background import database_url
from marketing_os.models import create_api_key
from segments.evaluation import evaluate_segment
from segments.members import upload_members
from segments.models import CustomerSegment, CustomerSegmentCustomer, SegmentMember
from tests.api.conftest import Api
from tests.automations.sending_factories import make_email_template, make_sending_automation
from tests.factories import NOW, make_customer, make_event
from tests.segments.factories import make_manual_segment, make_sql_segment

pytestmark = pytest.mark.django_db

LEAD = "LEAD-ZQX-4711"
EMAIL = "Zebulonia.Q@Example.org"
MOBILE = "+91 98765 43210"
TRACES = ("zebulonia", "quixotely", LEAD, "98765 43210")  # ILIKE: any case


@pytest.fixture(autouse=True)
def fast(fake_resend, settings):
    settings.RESEND_REQUESTS_PER_SECOND = 10_000


def places_holding(text: str) -> list[str]:
    """Every text or JSON column of every table holding `text`, in any case."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json')"
        )
        columns = cursor.fetchall()
        hits = []
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s', [f"%{text}%"]
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def erase(*args: str) -> str:
    out = StringIO()
    call_command("erase_customer", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def person(client, fake_resend):
    """Zebulonia, known to every part of the app that can hold a person's data."""
    # A member list uploaded before she was a customer: her address is an unmatched line.
    early = make_manual_segment([], name="Early list")
    upload_members(
        early, io.BytesIO(f"email\n{EMAIL}\n".encode()), mode="replace", user=None, now=NOW
    )
    api = Api(client, create_api_key("upstream")[1])
    item = {
        "lms_lead_id": LEAD,
        "first_name": "Zebulonia",
        "last_name": "Quixotely",
        "email": EMAIL,
        "mobile": MOBILE,
        "attributes": [
            {"field_name": "nickname", "field_type": "string", "field_value": "Zebulonia"}
        ],
    }
    response = api.post("customers", [item], headers={"Idempotency-Key": "first-sync"})
    assert response.status_code == 200
    customer = Customer.objects.get(lms_lead_id=LEAD)
    make_event(customer, from_stage=None, to_stage="lead")
    make_event(customer, from_stage="lead", to_stage="applied")
    # A bad line of an attributes import names her.
    bad = f"lms_lead_id,field_name,field_type,field_value\n{LEAD},score,bogus,1\n"
    job = create_job(kind="attributes", filename="scores.csv", size=len(bad))
    run_import(claim_job(job.pk, now=NOW), file=io.BytesIO(bad.encode()), now=NOW)
    # Segments: a manual list and an evaluated SQL segment hold her.
    manual = make_manual_segment([customer], name="VIPs")
    sql = make_sql_segment("SELECT id FROM customers", name="Everyone")
    evaluate_segment(sql, now=NOW)
    # An email sent, its webhook events, an unsubscribe, a re-subscribe with a reason, and
    # an unsubscribe again.
    automation = make_sending_automation([customer], template=make_email_template())
    run = run_automation(automation.pk, now=NOW, scheduled=False).run
    delivery = run.deliveries.get()
    for n, kind in enumerate(("email.delivered", "email.opened")):
        data = {"email_id": delivery.resend_id, "to": [EMAIL], "subject": "Hello Zebulonia"}
        record_event({"type": kind, "data": data}, svix_id=f"msg_{n}", now=NOW)
    unsubscribe(customer, source=Suppression.Source.LINK, now=NOW)
    resubscribe(customer, user=None, reason="Zebulonia phoned us", now=NOW)
    unsubscribe(customer, source=Suppression.Source.ONE_CLICK, now=NOW)
    customer.refresh_from_db()
    return {
        "customer": customer,
        "api": api,
        "manual": manual,
        "sql": sql,
        "automation": automation,
        "run": run,
        "delivery": delivery,
    }


def test_every_place_that_held_her_data_is_clean_afterwards(person):
    before = {text: places_holding(text) for text in TRACES}
    assert set(before["zebulonia"]) >= {
        "customers.first_name",
        "customers.email",
        "customer_attributes.field_value",
        "customer_segment_uploads.unmatched",
        "automation_deliveries.email",
        "delivery_events.payload",
        "email_suppressions.email",
        "subscription_changes.email",
        "subscription_changes.reason",
    }
    assert set(before[LEAD]) >= {
        "customers.lms_lead_id",
        "import_row_errors.cells",
        "api_idempotency_records.response_body",
    }

    output = erase(LEAD)

    assert {text: places_holding(text) for text in TRACES} == {text: [] for text in TRACES}
    pk = person["customer"].pk
    assert f"Erased customer {pk} (its lms_lead_id is now erased-{pk}):" in output
    assert "  attributes: 1" in output and "  manual segment memberships: 2" in output


def test_the_tombstone_keeps_its_events_and_counts_unlinked_from_the_person(person):
    customer = person["customer"]
    erase(str(customer.pk))
    customer.refresh_from_db()
    assert customer.lms_lead_id == f"erased-{customer.pk}" and customer.is_erased
    assert (customer.first_name, customer.last_name, customer.email, customer.mobile) == (
        None,
        None,
        None,
        None,
    )
    assert not customer.attributes.exists()
    assert FunnelEvent.objects.filter(customer=customer).count() == 2
    with pytest.raises((IntegrityError, InternalError), match="immutable"):
        with transaction.atomic():
            FunnelEvent.objects.filter(customer=customer).update(to_stage="x")
    run = person["run"]
    run.refresh_from_db()
    assert (run.members, run.accepted) == (1, 1)
    delivery = Delivery.objects.get(pk=person["delivery"].pk)
    assert (delivery.customer_id, delivery.status, delivery.email) == (customer.pk, "accepted", "")
    assert not CustomerSegmentCustomer.objects.filter(customer_id=customer.pk).exists()
    assert not SegmentMember.objects.filter(customer_id=customer.pk).exists()


def test_the_erasure_is_in_the_audit_trail_with_counts_and_no_personal_data(person):
    erase(LEAD)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ERASE)
    assert entry.actor_label == f"system: erase_customer (os user {os_user()})"
    assert entry.object_repr == f"Customer {person['customer'].pk}"
    assert entry.details["removed"]["attributes"] == 1
    assert entry.details["removed"]["delivery feedback events"] == 2
    assert "zebulonia" not in json.dumps(entry.details).lower()


def test_she_is_never_emailed_again_even_when_she_comes_back(person, fake_resend):
    erase(LEAD)
    assert person["api"].get(f"customers/{LEAD}").status_code == 404
    again = {"lms_lead_id": LEAD, "first_name": "Zebulonia", "email": EMAIL.upper()}
    response = person["api"].post("customers", [again])
    assert response.json()["results"][0]["status"] == "created"
    newcomer = Customer.objects.get(lms_lead_id=LEAD)
    assert newcomer.pk != person["customer"].pk
    sent_before = len(fake_resend.emails)
    automation = make_sending_automation([newcomer])
    run = run_automation(automation.pk, now=NOW, scheduled=False).run
    assert (run.skipped_unsubscribed, len(fake_resend.emails)) == (1, sent_before)
    assert Suppression.objects.filter(email__startswith="sha256:").exists()
    assert resubscribe(newcomer, user=None, reason="She signed up again", now=NOW)
    assert not Suppression.objects.for_address(EMAIL).exists()


def test_a_late_webhook_about_her_email_keeps_no_address(person):
    erase(LEAD)
    delivery = person["delivery"]
    event = {"type": "email.clicked", "data": {"email_id": delivery.resend_id, "to": [EMAIL]}}
    record_event(event, svix_id="msg_late", now=NOW)
    assert places_holding("zebulonia") == []


def test_erasing_twice_says_already_erased_by_id_or_by_the_old_lead_id(person):
    erase(LEAD)
    pk = person["customer"].pk
    assert erase(str(pk)) == f"Customer {pk} is already erased; nothing to do.\n"
    assert erase(LEAD).startswith("Already erased (on ")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ERASE).count() == 1


def test_a_dry_run_shows_the_counts_and_changes_nothing(person):
    before = {text: places_holding(text) for text in TRACES}
    output = erase(LEAD, "--dry-run")
    assert f"Dry run: erasing customer {person['customer'].pk} would change:" in output
    assert "  attributes: 1" in output and output.endswith("Nothing was changed.\n")
    assert {text: places_holding(text) for text in TRACES} == before
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ERASE).exists()
    assert not ErasedLead.objects.exists()
    assert "Erased customer" in erase(LEAD)  # and a real erasure still works afterwards


def test_an_unknown_customer_is_a_one_line_error_and_exit_1():
    with pytest.raises(CommandError) as raised:
        erase("NOBODY-1")
    assert str(raised.value) == "No customer has lms_lead_id or id 'NOBODY-1'."
    assert raised.value.returncode == 1
    with pytest.raises(CommandError) as raised:
        erase("424242", "--by", "id")
    assert raised.value.returncode == 1


def test_a_key_that_is_one_customers_lead_id_and_anothers_id_is_refused():
    first = make_customer()
    second = make_customer(lms_lead_id=str(first.pk))
    with pytest.raises(CommandError, match="--by lms_lead_id or --by id") as raised:
        erase(str(first.pk))
    assert raised.value.returncode == 2
    erase(str(first.pk), "--by", "id")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_erased and not second.is_erased


@pytest.mark.django_db(transaction=True)
def test_bad_arguments_exit_2_and_an_unknown_customer_1_in_a_real_process():
    env = os.environ | {"DATABASE_URL": database_url(connection.settings_dict)}

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "erase_customer", *args]
        return subprocess.run(
            command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
        )

    assert run().returncode == 2
    assert run("L-1", "--by", "email").returncode == 2
    unknown = run("NOBODY-1")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "CommandError: No customer has lms_lead_id or id 'NOBODY-1'."
    ]


def test_the_erased_customer_shows_as_erased_on_its_page_and_in_lists(logged_in, person):
    erase(LEAD)
    pk = person["customer"].pk
    page = logged_in.get(reverse("customers:detail", args=[pk])).content.decode()
    assert '<h1 class="h3 mb-3">Erased customer</h1>' in page
    assert "never emailed again" in page
    listing = logged_in.get(reverse("customers:list")).content.decode()
    assert f'<a href="/customers/{pk}/" class="text-muted">Erased customer</a>' in listing
    events = logged_in.get(reverse("funnel:list")).content.decode()
    assert "Erased customer" in events


def test_a_segment_that_mentions_her_is_reported_not_rewritten(person):
    sql = f"SELECT id FROM customers WHERE lms_lead_id = '{LEAD}'"
    segment = make_sql_segment(sql, name="Just her")
    output = erase(LEAD, "--dry-run")
    assert f"Note: Segment {segment.pk} (Just her) mentions them in its definition" in output
    erase(LEAD)
    assert CustomerSegment.objects.get(pk=segment.pk).selection_sql == sql


def test_no_upstream_system_can_write_into_an_erased_customer(person, tmp_path):
    """The tombstone's `erased-<id>` cannot be upserted, nor given attributes or events."""
    erase(LEAD)
    tombstone = Customer.objects.get(pk=person["customer"].pk)
    api = person["api"]
    comeback = {"lms_lead_id": tombstone.lms_lead_id, "first_name": "Zebulonia"}
    response = api.post("customers", [comeback])
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["index"], error["field"]) == (0, "lms_lead_id")
    assert error["message"] == "ids starting with 'erased-' are reserved for erased customers"

    attribute = {"field_name": "nickname", "field_type": "string", "field_value": "Zeb"}
    by_id = api.post("customer-attributes", [{"customer_id": tombstone.pk, **attribute}])
    by_lead = api.post("customer-attributes", [{"lms_lead_id": tombstone.lms_lead_id, **attribute}])
    event = {"customer_id": tombstone.pk, "funnel_type": "sales", "to_stage": "enrolled"}
    events = api.post("funnel-events", [event])
    assert [r.status_code for r in (by_id, by_lead, events)] == [422, 422, 422]
    assert by_id.json()["errors"][0]["message"] == f"no customer has id {tombstone.pk}"

    customers_csv = tmp_path / "customers.csv"
    customers_csv.write_text(f"lms_lead_id,first_name\n{tombstone.lms_lead_id},Zebulonia\n")
    attributes_csv = tmp_path / "attributes.csv"
    attributes_csv.write_text(
        f"lms_lead_id,field_name,field_type,field_value\n{tombstone.lms_lead_id},x,string,Zeb\n"
    )
    reports = {}
    for kind, path in (("customers", customers_csv), ("attributes", attributes_csv)):
        out = StringIO()
        call_command("import_csv", kind, str(path), stdout=out, stderr=StringIO())
        reports[kind] = out.getvalue().splitlines()
    assert reports == {
        "customers": [
            "line 2: lms_lead_id: ids starting with 'erased-' are reserved for erased customers",
            "created 0, updated 0, skipped 1",
        ],
        "attributes": [
            f"line 2: lms_lead_id: no customer has lms_lead_id {tombstone.lms_lead_id!r}",
            "created 0, updated 0, skipped 1",
        ],
    }

    tombstone.refresh_from_db()
    assert (tombstone.first_name, tombstone.erased_at is not None) == (None, True)
    assert not CustomerAttribute.objects.filter(customer=tombstone).exists()
    assert FunnelEvent.objects.filter(customer=tombstone).count() == 2  # kept, nothing new
