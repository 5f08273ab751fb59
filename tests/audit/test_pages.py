"""The History sections and /audit/: what they show, how they search, how few queries."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from audit.actors import Actor, acting_as
from audit.models import AuditEntry
from audit.recording import record
from tests.automations.factories import make_automation, make_segment, make_template
from tests.factories import NOW, make_customer

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action


def edit_many(obj, times: int, field: str = "description", *, who: str = "alice") -> None:
    with acting_as(Actor(label=who)):
        for n in range(times):
            setattr(obj, field, f"version {n}")
            obj.save()


def test_the_segment_page_shows_its_history_newest_first(logged_in):
    segment = make_segment("Leads", description="")
    edit_many(segment, 2)
    response = logged_in.get(reverse("segments:detail", args=[segment.pk]))
    rows = [row.record for row in response.context["history"].page.object_list]
    assert [r.changes["description"][1] for r in rows[:2]] == ["version 1", "version 0"]
    history = response.content.decode().split('id="history-heading"')[1]
    assert "alice" in history and "changed" in history
    assert "<code>version 0</code> → <code>version 1</code>" in history


def test_the_history_pages_under_its_own_prefix_with_bounded_queries(
    logged_in, django_assert_max_num_queries
):
    automation = make_automation("Busy")
    edit_many(automation, 35)
    url = reverse("automations:detail", args=[automation.pk])
    with django_assert_max_num_queries(10):
        response = logged_in.get(url, {"history-page": 3})
    table = response.context["history"]
    assert table.page.number == 3 and len(table.page.object_list) == 10
    assert "history-page=2" in response.content.decode()
    many = make_automation("Busier")
    edit_many(many, 80)
    with django_assert_max_num_queries(10):  # the same however long the history is
        logged_in.get(reverse("automations:detail", args=[many.pk]), {"history-page": 3})


def test_the_template_page_shows_its_history(logged_in):
    template = make_template("Welcome")
    edit_many(template, 1, field="subject", who="bob")
    page = logged_in.get(reverse("templates_app:detail", args=[template.pk])).content.decode()
    assert 'id="history-heading"' in page and "bob" in page and "version 0" in page


def test_a_long_value_is_cut_short_and_the_entry_page_shows_the_whole_diff(logged_in):
    sql_before = "SELECT id\nFROM customers\nWHERE email IS NOT NULL\n" + "-- padding\n" * 10
    sql_after = sql_before.replace("IS NOT NULL", "LIKE '%@example.com'")
    segment = make_segment("Long", type="sql", selection_sql=sql_before, description="")
    with acting_as(Actor(label="carol")):
        segment.selection_sql = sql_after
        segment.save()
    entry = AuditEntry.objects.filter(action=Action.UPDATE).get()
    page = logged_in.get(reverse("segments:detail", args=[segment.pk])).content.decode()
    assert "Full diff" in page and entry.get_absolute_url() in page
    assert "-- padding -- padding -- padding -- padding" not in page  # cut at 60 characters
    entry_page = logged_in.get(entry.get_absolute_url()).content.decode()
    assert '<span class="diff-line diff-removed">-WHERE email IS NOT NULL</span>' in entry_page
    assert 'diff-added">+WHERE email LIKE &#x27;%@example.com&#x27;</span>' in entry_page
    assert "Before and after in full" in entry_page


def test_the_nav_links_to_the_audit_trail_which_needs_a_login(client, logged_in):
    page = logged_in.get(reverse("customers:list")).content.decode()
    assert f'href="{reverse("audit:list")}"' in page
    client.logout()
    response = client.get(reverse("audit:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def make_entries() -> dict:
    with acting_as(Actor(label="alice")):
        segment = make_segment("Alice's segment")
    with acting_as(Actor(label="system: run_automation (os user deploy)")):
        automation = make_automation("Nightly")
        record(automation, action=Action.RUN, now=NOW - timedelta(days=3), details={"run": 1})
    customer = make_customer()
    with acting_as(Actor(label="Bob")):
        record(customer, action=Action.RESUBSCRIBE, now=NOW - timedelta(days=10))
    return {"segment": segment, "automation": automation, "customer": customer}


def listed(client, **params) -> list[AuditEntry]:
    response = client.get(reverse("audit:list"), params)
    assert response.status_code == 200
    return [row.record for row in response.context["table"].page.object_list]


def test_the_audit_trail_searches_by_actor_type_action_and_days(logged_in):
    made = make_entries()
    assert {e.actor_label for e in listed(logged_in, actor="ALI")} == {"alice"}
    assert {e.actor_label for e in listed(logged_in, actor="system")} == {
        "system: run_automation (os user deploy)"
    }
    automations = listed(logged_in, type="automations.automation")
    assert {e.object_id for e in automations} == {made["automation"].pk}
    assert [e.action for e in listed(logged_in, action=Action.RUN)] == [Action.RUN]
    day = (NOW - timedelta(days=10)).date().isoformat()
    resubscribed = listed(logged_in, created_from=day, created_to=day)
    assert [e.object_repr for e in resubscribed] == [f"Customer {made['customer'].pk}"]
    segment_type = ContentType.objects.get_for_model(made["segment"])
    assert segment_type  # the History link's search: one object's entries
    one = listed(logged_in, type="segments.customersegment", object=made["segment"].pk)
    assert [e.object_id for e in one] == [made["segment"].pk]


def test_the_audit_trail_links_each_entry_to_its_object(logged_in):
    made = make_entries()
    page = logged_in.get(reverse("audit:list")).content.decode()
    assert f'href="{reverse("segments:detail", args=[made["segment"].pk])}"' in page
    assert f'href="{reverse("customers:detail", args=[made["customer"].pk])}"' in page
    assert made["customer"].first_name not in page  # customers are named by id only


def test_entries_of_a_deleted_object_name_it_without_a_dead_link(logged_in):
    gone, kept = make_segment("Old promo", description=""), make_segment("Kept", description="")
    edit_many(gone, 2)
    gone_url = reverse("segments:detail", args=[gone.pk])
    with acting_as(Actor(label="alice")):
        gone.delete()

    page = logged_in.get(reverse("audit:list")).content.decode()
    assert "Old promo" in page  # still named: created, changed twice, deleted
    assert f'href="{gone_url}"' not in page
    assert f'href="{reverse("segments:detail", args=[kept.pk])}"' in page
    changed = AuditEntry.objects.filter(object_repr="Old promo", action=Action.UPDATE).first()
    entry_page = logged_in.get(reverse("audit:entry", args=[changed.pk])).content.decode()
    assert "Old promo" in entry_page and f'href="{gone_url}"' not in entry_page


def test_bad_search_values_are_form_errors_not_500s(logged_in):
    make_entries()
    for params in (
        {"object": "abc"},
        {"object": str(10**30)},
        {"type": "bogus.model"},
        {"action": "99"},
        {"created_from": "2026-13-40"},
        {"created_from": "2026-11-20", "created_to": "2026-11-01"},
        {"actor": "x" * 500},
    ):
        assert logged_in.get(reverse("audit:list"), params).status_code == 200, params
    page = logged_in.get(
        reverse("audit:list"), {"created_from": "2026-11-20", "created_to": "2026-11-01"}
    ).content.decode()
    assert "“From” is after “To”." in page


def test_the_audit_trail_pages_with_bounded_queries(logged_in, django_assert_max_num_queries):
    segments = [make_segment(f"S{n}", description="") for n in range(30)]
    for segment in segments:
        edit_many(segment, 3)
    with django_assert_max_num_queries(7):
        response = logged_in.get(reverse("audit:list"), {"page": 2})
    assert len(response.context["table"].page.object_list) == 50
    with django_assert_max_num_queries(7):
        logged_in.get(reverse("audit:list"), {"actor": "al", "type": "segments.customersegment"})


def test_an_unknown_entry_is_a_404(logged_in):
    assert logged_in.get(reverse("audit:entry", args=[424242])).status_code == 404


def test_an_entry_page_lists_the_recorded_details(logged_in):
    customer = make_customer()
    details = {"summary": "personal data erased (attributes: 2)", "removed": {"attributes": 2}}
    with acting_as(Actor(label="system: erase_customer (os user ops)")):
        entry = record(customer, action=Action.ERASE, now=NOW, details=details)
    page = logged_in.get(entry.get_absolute_url()).content.decode()
    assert "system: erase_customer (os user ops) erased personal data Customer" in page
    assert "personal data erased (attributes: 2)" in page and "<li>attributes: 2</li>" in page


def test_the_admin_shows_entries_read_only(client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", "b@example.com", "a-long-pass")
    client.force_login(admin)
    segment = make_segment("Seen in the admin", description="")
    edit_many(segment, 1)
    listing = client.get(reverse("admin:audit_auditentry_changelist"))
    assert listing.status_code == 200 and "Seen in the admin" in listing.content.decode()
    entry = AuditEntry.objects.first()
    assert client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).status_code == 200
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
