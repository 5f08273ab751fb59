"""/settings/api-keys/: admins list keys, make one (its secret shown once) and revoke it."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketing_os.models import ApiKey, create_api_key, hash_key
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db
RAW_KEY = re.compile(r"mos_[A-Za-z0-9_-]{43}")


def listed(html: str) -> list[list[str]]:
    """The table's rows as lists of cell texts."""
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", "", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        for row in rows
    ]


def new_key(client: Client, **fields):
    data = {"name": "LMS sync", "scopes": ["ingest", "read"], "rate_limit_per_minute": ""}
    return client.post(reverse("api_keys:new"), data | fields)


@pytest.mark.parametrize("who", ["viewer_client", "logged_in"])
def test_viewers_and_marketers_get_the_403_page_and_no_link(request, who):
    client = request.getfixturevalue(who)
    key, _ = create_api_key("upstream")
    pages = [
        ("get", reverse("api_keys:list")),
        ("get", reverse("api_keys:new")),
        ("post", reverse("api_keys:new")),
        ("get", reverse("api_keys:detail", args=[key.pk])),
        ("get", reverse("api_keys:revoke", args=[key.pk])),
        ("post", reverse("api_keys:revoke", args=[key.pk])),
    ]

    for method, url in pages:
        response = getattr(client, method)(url, {"name": "sneaky", "scopes": ["read"]})
        assert response.status_code == 403, url
        assert "Not allowed" in response.content.decode()

    assert ApiKey.objects.get().revoked_at is None and ApiKey.objects.count() == 1
    assert reverse("api_keys:list") not in client.get("/customers/").content.decode()


def test_an_admin_sees_the_link_and_the_keys_with_their_scopes_limits_and_status(
    admin_client, settings
):
    settings.API_RATE_LIMIT_PER_MINUTE = 600
    create_api_key("LMS sync", scopes=["ingest"])
    old, _ = create_api_key("Old CRM", rate_limit_per_minute=0)
    old.revoke(now=timezone.now())
    create_api_key("BI reader", scopes=["read"], rate_limit_per_minute=30)

    assert reverse("api_keys:list") in admin_client.get("/customers/").content.decode()
    response = admin_client.get(reverse("api_keys:list"))

    assert response.status_code == 200
    rows = {row[0]: row for row in listed(response.content.decode())}
    assert set(rows) == {"LMS sync", "Old CRM", "BI reader"}
    assert rows["LMS sync"][2:4] == ["ingest", "600/min (default)"]
    assert rows["BI reader"][2:4] == ["read", "30/min"]
    assert rows["Old CRM"][2:4] == ["ingest, read", "unlimited"]
    assert rows["Old CRM"][6].startswith("revoked")
    assert rows["LMS sync"][6] == "active" and rows["LMS sync"][5] == "never"
    assert rows["LMS sync"][1].startswith("mos_")
    revoked = admin_client.get(reverse("api_keys:list"), {"status": "revoked"})
    assert [row[0] for row in listed(revoked.content.decode())] == ["Old CRM"]


def test_the_list_costs_the_same_queries_for_3_keys_as_for_60(admin_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("api_keys:list"), {"page": 1}).status_code == 200
        return len(captured)

    for n in range(3):
        create_api_key(f"key {n}")
    few = queries()
    for n in range(57):
        create_api_key(f"more {n}")

    assert queries() == few
    page_2 = admin_client.get(reverse("api_keys:list"), {"page": 2})
    assert len(listed(page_2.content.decode())) == 10  # 60 keys, 50 a page


def test_a_new_key_is_shown_once_and_then_works_against_the_api(admin_client, client):
    response = new_key(admin_client, name="  LMS sync ", scopes=["ingest"])

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    [raw] = set(RAW_KEY.findall(page))
    assert page.count(raw) == 1
    assert "shown only this once" in page
    key = ApiKey.objects.get()
    assert (key.name, key.scopes, key.rate_limit_per_minute) == ("LMS sync", ["ingest"], None)
    assert key.key_hash == hash_key(raw) and raw.startswith(key.prefix)
    api = Api(client, raw)
    assert api.post("customers", {"lms_lead_id": "L-1"}).status_code == 200
    assert api.get("customers/L-1").status_code == 403  # only the ingest scope
    for url in (reverse("api_keys:list"), reverse("api_keys:detail", args=[key.pk])):
        assert raw not in admin_client.get(url).content.decode()


def test_a_key_s_own_rate_limit_from_the_form_applies(admin_client, client):
    response = new_key(admin_client, rate_limit_per_minute="1")
    [raw] = set(RAW_KEY.findall(response.content.decode()))
    api = Api(client, raw)

    assert api.post("customers", {"lms_lead_id": "L-1"}).status_code == 200
    assert api.post("customers", {"lms_lead_id": "L-2"}).status_code == 429


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"scopes": []}, "scopes", "Choose at least one scope."),
        ({"scopes": ["admin"]}, "scopes", "Select a valid choice."),
        ({"name": "   "}, "name", "This field is required."),
        ({"rate_limit_per_minute": "-5"}, "rate_limit_per_minute", "greater than or equal to 0"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_no_key(admin_client, fields, field, message):
    response = new_key(admin_client, **fields)

    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert not ApiKey.objects.exists()
    assert not RAW_KEY.search(response.content.decode())


def test_revoking_asks_first_then_the_api_refuses_the_key(admin_client, client):
    key, raw = create_api_key("LMS sync")
    api = Api(client, raw)
    assert api.post("customers", {"lms_lead_id": "L-1"}).status_code == 200

    confirm = admin_client.get(reverse("api_keys:revoke", args=[key.pk]))
    assert "Revoke the API key “LMS sync”?" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # asking changed nothing
    response = admin_client.post(reverse("api_keys:revoke", args=[key.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("api_keys:detail", args=[key.pk])
    assert "revoked" in response.content.decode()
    assert api.post("customers", {"lms_lead_id": "L-2"}).status_code == 401
    rows = listed(admin_client.get(reverse("api_keys:list")).content.decode())
    assert rows[0][0] == "LMS sync" and rows[0][6].startswith("revoked")
    again = admin_client.post(reverse("api_keys:revoke", args=[key.pk]), follow=True)
    assert "already revoked" in again.content.decode()


def test_revoking_needs_the_csrf_token(admin_user):
    key, _ = create_api_key("LMS sync")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(reverse("api_keys:revoke", args=[key.pk]))

    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_an_unknown_key_is_a_404(admin_client):
    assert admin_client.get(reverse("api_keys:detail", args=[999])).status_code == 404
    assert admin_client.post(reverse("api_keys:revoke", args=[999])).status_code == 404
