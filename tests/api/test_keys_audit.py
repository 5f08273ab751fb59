"""The audit trail records who made and who revoked each API key, never its secret."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.actors import os_user
from audit.models import AuditEntry
from marketing_os.models import ApiKey
from tests.api.test_keys_page import RAW_KEY, new_key

pytestmark = pytest.mark.django_db


def run_command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_audit_trail_records_who_made_and_revoked_a_key_never_its_secret(admin_client):
    raw = RAW_KEY.findall(new_key(admin_client, scopes=["read"]).content.decode())[0]
    key = ApiKey.objects.get()
    admin_client.post(reverse("api_keys:revoke", args=[key.pk]))

    entries = AuditEntry.objects.filter(object_id=key.pk).order_by("timestamp", "id")
    assert [(e.actor_label, e.get_action_display()) for e in entries] == [
        ("admin", "created"),
        ("admin", "revoked"),
    ]
    assert entries[0].actor.username == "admin"
    assert entries[0].changes["name"] == [None, "LMS sync"]
    assert entries[0].changes["scopes"][1] == ["read"]
    assert set(entries[0].changes) <= {"name", "prefix", "scopes", "rate_limit_per_minute"}
    stored = " ".join(f"{e.changes} {e.additional_data} {e.object_repr}" for e in entries)
    assert raw not in stored and key.key_hash not in stored
    trail = admin_client.get(reverse("audit:list"), {"type": "marketing_os.apikey"})
    page = trail.content.decode()
    assert "API key" in page and "LMS sync" in page and "revoked" in page
    detail = admin_client.get(reverse("api_keys:detail", args=[key.pk])).content.decode()
    assert "History" in detail and "revoked" in detail


def test_the_commands_are_recorded_in_the_audit_trail_as_the_system():
    raw = run_command("create_api_key", "LMS sync", "--scope", "ingest").strip().splitlines()[-1]
    key = ApiKey.objects.get()
    run_command("revoke_api_key", str(key.pk))
    run_command("revoke_api_key", str(key.pk))  # already revoked: nothing more to record

    entries = AuditEntry.objects.filter(object_id=key.pk).order_by("timestamp", "id")
    assert [(e.actor_label, e.get_action_display(), e.actor_id) for e in entries] == [
        (f"system: create_api_key (os user {os_user()})", "created", None),
        (f"system: revoke_api_key (os user {os_user()})", "revoked", None),
    ]
    assert entries[0].object_repr == str(key) and raw not in str(entries[0].changes)
    assert key.key_hash not in str(entries[0].changes)


def test_the_admin_s_revoke_action_is_recorded_as_the_admin(superuser_client, api_key):
    response = superuser_client.post(
        "/admin/marketing_os/apikey/",
        {"action": "revoke", "_selected_action": [api_key[0].pk]},
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_id=api_key[0].pk, action=AuditEntry.Action.REVOKE)
    assert entry.actor_label == "root"


def test_the_trail_links_a_key_only_for_those_who_may_open_its_page(admin_client, viewer_client):
    new_key(admin_client)
    key = ApiKey.objects.get()
    link = f'href="{reverse("api_keys:detail", args=[key.pk])}"'
    entry = AuditEntry.objects.get(object_id=key.pk, content_type__model="apikey")
    for client, linked in ((admin_client, True), (viewer_client, False)):
        trail = client.get(reverse("audit:list"), {"type": "marketing_os.apikey"}).content.decode()
        entry_page = client.get(reverse("audit:entry", args=[entry.pk])).content.decode()
        assert "LMS sync" in trail and "LMS sync" in entry_page
        assert (link in trail, link in entry_page) == (linked, linked)
