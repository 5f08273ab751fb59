import pytest
from django.test import Client
from django.utils import timezone

from customers.models import Customer
from marketing_os.models import ApiKey, create_api_key, hash_key

pytestmark = pytest.mark.django_db
ITEM = {"lms_lead_id": "L-1", "first_name": "Ravi"}


def test_it_answers_401_in_json_when_the_key_is_missing(api):
    response = api.post("customers", ITEM, key=None)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer mos_not-a-real-key",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "mos_only-the-key",
        "Bearer mos_\x00nul",
        "Bearer mos_\ud800",
    ],
)
def test_it_answers_401_when_the_key_is_wrong_or_badly_sent(api, authorization):
    response = api.post("customers", ITEM, key=None, headers={"Authorization": authorization})

    assert response.status_code == 401
    assert "message" in response.json()
    assert not Customer.objects.exists()


def test_it_answers_401_when_the_key_is_revoked(api, api_key):
    ApiKey.objects.filter(pk=api_key[0].pk).revoke(now=timezone.now())

    response = api.post("customers", ITEM)

    assert response.status_code == 401
    assert not Customer.objects.exists()


def test_it_accepts_a_lowercase_bearer_scheme(api, api_key):
    response = api.post(
        "customers", ITEM, key=None, headers={"Authorization": f"bearer {api_key[1]}"}
    )

    assert response.status_code == 200


def test_it_records_when_a_key_was_last_used(api, api_key):
    assert api_key[0].last_used_at is None

    api.post("customers", ITEM)

    api_key[0].refresh_from_db()
    assert api_key[0].last_used_at is not None


def test_it_keeps_only_a_hash_of_the_key():
    key, raw = create_api_key("lms")

    stored = ApiKey.objects.filter(pk=key.pk).values_list("name", "prefix", "key_hash").get()
    assert raw not in " ".join(stored)
    assert stored[2] == hash_key(raw) and len(stored[2]) == 64
    assert raw.startswith(stored[1])


def test_a_key_can_be_used_only_by_its_full_secret(api, api_key):
    response = api.post("customers", ITEM, key=api_key[1][:-1])

    assert response.status_code == 401


def test_posts_need_no_csrf_token_even_from_a_logged_in_browser(api_key, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(
        "/api/v1/customers",
        {"lms_lead_id": "L-1"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key[1]}"},
    )

    assert response.status_code == 200


def test_a_login_session_is_not_an_api_key(logged_in):
    response = logged_in.post(
        "/api/v1/customers", {"lms_lead_id": "L-1"}, content_type="application/json"
    )

    assert response.status_code == 401
