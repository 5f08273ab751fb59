"""Each audited action, done through its page or command, leaves the right entry."""

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import IntegrityError, InternalError
from django.urls import reverse

from audit.actors import acting_as, command_actor, os_user
from audit.models import AuditEntry
from automations.models import Automation, Suppression
from customers.models import Customer, ImportJob
from marketing_os.models import create_api_key
from segments.models import CustomerSegment
from templates_app.models import MessageTemplate
from tests.api.conftest import Api
from tests.automations.factories import make_automation, make_segment, make_template
from tests.automations.sending_factories import make_recipients, make_sending_automation
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
SYSTEM = f"system: run_automation (os user {os_user()})"


def entries_of(obj) -> list[AuditEntry]:
    content_type = ContentType.objects.get_for_model(obj)
    return list(AuditEntry.objects.for_object(content_type.pk, obj.pk).newest_first())


def test_creating_a_segment_on_its_page_records_who_and_every_defined_field(logged_in, user):
    logged_in.post(
        reverse("segments:new"),
        {
            "name": "Pune leads",
            "type": "sql",
            "description": "",
            "upload_mode": "replace",
            "selection_sql": "SELECT id FROM customers",
        },
    )
    segment = CustomerSegment.objects.get()
    [entry] = entries_of(segment)
    assert (entry.action, entry.actor, entry.actor_label) == (Action.CREATE, user, "marketer")
    assert entry.changes["name"] == [None, "Pune leads"]
    assert entry.changes["selection_sql"] == [None, "SELECT id FROM customers"]
    assert "last_count" not in entry.changes  # evaluation counters are not definitions


def test_editing_a_segment_records_only_the_fields_that_changed(logged_in):
    segment = make_segment(
        "Old name", type="sql", selection_sql="SELECT id FROM customers", description=""
    )
    logged_in.post(
        reverse("segments:edit", args=[segment.pk]),
        {
            "name": "New name",
            "type": "sql",
            "description": "",
            "upload_mode": "replace",
            "selection_sql": "SELECT id FROM customers",
        },
    )
    entry = entries_of(segment)[0]
    assert entry.action == Action.UPDATE and entry.actor_label == "marketer"
    assert entry.changes == {"name": ["Old name", "New name"]}


def test_evaluating_a_segment_writes_no_entry(logged_in):
    segment = make_segment("Counted", type="sql", selection_sql="SELECT id FROM customers")
    before = AuditEntry.objects.count()
    logged_in.post(reverse("segments:evaluate", args=[segment.pk]))
    segment.refresh_from_db()
    assert segment.last_evaluated_date is not None
    assert AuditEntry.objects.count() == before


def test_editing_a_template_records_subject_and_message_before_and_after(logged_in):
    template = make_template("Welcome")
    data = {"name": "Welcome", "type": "email", "subject": "Hi there", "message": template.message}
    logged_in.post(reverse("templates_app:edit", args=[template.pk]), data)
    entry = entries_of(template)[0]
    assert entry.action == Action.UPDATE and entry.actor_label == "marketer"
    assert entry.changes == {"subject": ["Hello", "Hi there"]}


def test_creating_a_template_on_its_page_is_recorded(logged_in, user):
    message = make_template().message
    data = {"name": "Fresh", "type": "email", "subject": "Hello", "message": message}
    logged_in.post(reverse("templates_app:create"), data)
    [entry] = entries_of(MessageTemplate.objects.get(name="Fresh"))
    assert (entry.action, entry.actor) == (Action.CREATE, user)
    assert entry.changes["message"] == [None, message]


def test_editing_an_automation_names_its_segment_and_schedule_before_and_after(logged_in):
    automation = make_automation("Nudge", segment=make_segment("Old segment"))
    new_segment = make_segment("New segment")
    data = {
        "name": "Nudge",
        "customer_segment": new_segment.pk,
        "message_template": automation.message_template_id,
        "cron": "30 10 * * *",
        "is_active": "on",
        "send_policy": "every_run",
    }
    response = logged_in.post(reverse("automations:edit", args=[automation.pk]), data)
    assert response.status_code == 302
    entry = entries_of(automation)[0]
    assert entry.action == Action.UPDATE and entry.actor_label == "marketer"
    assert entry.changes["customer_segment"] == ["Old segment", "New segment"]
    assert entry.changes["cron"] == ["0 9 * * 1-5", "30 10 * * *"]


def test_deleting_an_automation_in_the_admin_is_recorded_with_its_last_values(
    client, django_user_model
):
    admin = django_user_model.objects.create_superuser("boss", "b@example.com", "a-long-pass")
    client.force_login(admin)
    automation = make_automation("Doomed")
    pk = automation.pk
    url = reverse("admin:automations_automation_delete", args=[pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Automation.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(action=Action.DELETE)
    assert (entry.object_id, entry.actor_label, entry.object_repr) == (pk, "boss", "Doomed")
    assert entry.changes["name"] == ["Doomed", None]


def test_a_shell_or_script_is_named_as_the_system_command(monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "shell"])
    segment = make_segment("Made in a shell")
    assert entries_of(segment)[0].actor_label == f"system: shell (os user {os_user()})"


def test_a_cron_run_is_recorded_as_the_system_and_run_now_as_the_person(
    fake_resend, settings, user
):
    settings.RESEND_REQUESTS_PER_SECOND = 10_000
    automation = make_sending_automation(make_recipients(1))
    call_command("run_automation", str(automation.pk), stdout=StringIO())
    call_command(
        "run_automation",
        str(automation.pk),
        "--now",
        f"--requested-by={user.pk}",
        stdout=StringIO(),
    )
    by_person, by_cron = [e for e in entries_of(automation) if e.action == Action.RUN]
    scheduled, unscheduled = automation.runs.order_by("pk")
    assert (by_cron.actor, by_cron.actor_label) == (None, SYSTEM)
    assert by_cron.details["run"] == scheduled.pk and "slot" in by_cron.details["summary"]
    assert (by_person.actor, by_person.actor_label) == (user, "marketer")
    assert by_person.details["run"] == unscheduled.pk
    assert by_person.details["summary"] == f"run {unscheduled.pk}, unscheduled"


def test_a_run_for_a_slot_that_already_ran_records_nothing(fake_resend, settings):
    settings.RESEND_REQUESTS_PER_SECOND = 10_000
    automation = make_sending_automation(make_recipients(1))
    call_command("run_automation", str(automation.pk), stdout=StringIO())
    call_command("run_automation", str(automation.pk), stdout=StringIO())
    assert [e.action for e in entries_of(automation)].count(Action.RUN) == 1


def test_run_now_hands_the_person_to_the_background_command(
    admin_client, admin_user, monkeypatch, fake_resend
):
    from marketing_os import background

    spawned = []

    class Started:
        pid = 1

        def __init__(self, args, **kwargs):
            spawned.append(args)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(background.subprocess, "Popen", Started)
    automation = make_sending_automation(make_recipients(1))
    admin_client.post(reverse("automations:run_now", args=[automation.pk]))
    assert spawned and f"--requested-by={admin_user.pk}" in spawned[0]


def test_an_upload_on_the_imports_page_records_the_uploader_and_the_file(logged_in, user):
    content = b"lms_lead_id,first_name\nL-1,Asha\nL-2,Ravi\n"
    logged_in.post(
        reverse("imports:new"),
        {"kind": "customers", "file": SimpleUploadedFile("people.csv", content)},
    )
    job = ImportJob.objects.get()
    [entry] = entries_of(job)
    assert (entry.action, entry.actor, entry.object_repr) == (Action.UPLOAD, user, str(job))
    assert entry.details["file"] == "people.csv" and entry.details["kind"] == "customers"
    assert "Asha" not in str(entry.details)


def test_import_csv_records_the_operator(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("lms_lead_id\nL-1\n")
    call_command("import_csv", "customers", str(path), stdout=StringIO(), stderr=StringIO())
    [entry] = entries_of(ImportJob.objects.get())
    assert entry.actor_label == f"system: import_csv (os user {os_user()})"


def test_a_member_upload_records_file_and_counts_but_not_its_lines(logged_in, user):
    make_customer(lms_lead_id="L-1")
    segment = make_segment("Attendees", type="manual")
    logged_in.post(
        reverse("segments:edit", args=[segment.pk]),
        {
            "name": "Attendees",
            "type": "manual",
            "description": "",
            "upload_mode": "replace",
            "members_file": SimpleUploadedFile("attendees.csv", b"lms_lead_id\nL-1\nL-404\n"),
        },
    )
    [upload] = [e for e in entries_of(segment) if e.action == Action.UPLOAD]
    assert upload.actor == user
    assert upload.details["summary"] == (
        "attendees.csv: replace the list by lms_lead_id, 2 lines, 1 added, 1 unmatched"
    )
    assert "L-404" not in str(upload.details)


def test_re_subscribing_records_the_admin_but_not_the_address_or_name(admin_client, admin_user):
    customer = make_customer(first_name="Asha", email="asha@example.com")
    Suppression.objects.create(email="asha@example.com", reason="link", customer=customer)
    url = reverse("automations:customer_resubscribe", args=[customer.pk])
    admin_client.post(url, {"reason": "Asked by phone"})
    [entry] = entries_of(customer)
    assert (entry.action, entry.actor) == (Action.RESUBSCRIBE, admin_user)
    assert entry.object_repr == f"Customer {customer.pk}"
    assert entry.changes == {"email subscription": ["unsubscribed", "subscribed"]}
    row = AuditEntry.objects.filter(pk=entry.pk).values_list("changes", "additional_data")
    assert "asha" not in str(list(row)).lower() and "phone" not in str(list(row))


def test_bulk_ingest_through_the_api_and_csv_writes_no_entries(client, tmp_path):
    api = Api(client, create_api_key("upstream")[1])
    AuditEntry.objects.get(action=Action.CREATE)  # making the key is recorded, using it is not
    ingest = AuditEntry.objects.exclude(action=Action.CREATE)
    items = [
        {
            "lms_lead_id": f"B-{n}",
            "email": f"b{n}@example.com",
            "attributes": [{"field_name": "city", "field_type": "string", "field_value": "Pune"}],
        }
        for n in range(50)
    ]
    assert api.post("customers", items).status_code == 200
    attribute = {"lms_lead_id": "B-1", "field_name": "score", "field_type": "numeric"}
    assert api.post("customer-attributes", attribute | {"field_value": 3}).status_code == 200
    event = {"lms_lead_id": "B-1", "funnel_type": "sales", "from_stage": None, "to_stage": "lead"}
    assert api.post("funnel-events", event).status_code == 201
    assert not ingest.exists()
    path = tmp_path / "more.csv"
    path.write_text(
        "lms_lead_id,email\n" + "".join(f"C-{n},c{n}@example.com\n" for n in range(300))
    )
    call_command("import_csv", "customers", str(path), stdout=StringIO(), stderr=StringIO())
    assert Customer.objects.count() == 350
    assert list(ingest.values_list("action", flat=True)) == [Action.UPLOAD]


def test_entries_cannot_be_changed_or_deleted_even_in_sql():
    with acting_as(command_actor("test")):
        segment = make_segment("Kept")
    entry = entries_of(segment)[0]
    with pytest.raises(TypeError):
        entry.save()
    for sql in ("UPDATE audit_entries SET actor_label = 'me'", "DELETE FROM audit_entries"):
        with pytest.raises((IntegrityError, InternalError), match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEntry.objects.get().actor_label.startswith("system: test")


def test_deleting_a_user_keeps_their_name_on_their_entries(logged_in, user):
    message = make_template().message
    data = {"name": "Theirs", "type": "email", "subject": "Hello", "message": message}
    logged_in.post(reverse("templates_app:create"), data)
    user.delete()
    entry = entries_of(MessageTemplate.objects.get(name="Theirs"))[0]
    assert (entry.actor, entry.actor_label) == (None, "marketer")
