"""Scopes: an `ingest` key may only POST, a `read` key may only read a customer."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from customers.models import Customer, CustomerAttribute
from funnel.models import FunnelEvent
from marketing_os.models import ApiKey, IdempotencyRecord, create_api_key, hash_key
from tests.api.conftest import Api
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

POSTS = {
    "customers": {"lms_lead_id": "L-1", "first_name": "Ravi"},
    "customer-attributes": {
        "lms_lead_id": "L-KNOWN",
        "field_name": "city",
        "field_type": "string",
        "field_value": "Pune",
    },
    "funnel-events": {"lms_lead_id": "L-KNOWN", "funnel_type": "sales", "to_stage": "lead"},
}


def api_with(client, *scopes: str) -> tuple[ApiKey, Api]:
    key, raw = create_api_key(f"key with {scopes}", scopes=scopes)
    return key, Api(client, raw)


def stored() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        CustomerAttribute.objects.count(),
        FunnelEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.mark.parametrize("path", POSTS)
def test_a_read_only_key_is_refused_every_post_with_403_and_nothing_is_written(client, path):
    make_customer(lms_lead_id="L-KNOWN")
    key, api = api_with(client, ApiKey.Scope.READ)
    before = stored()

    response = api.post(path, POSTS[path], headers={"Idempotency-Key": "once"})

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "insufficient_scope" and body["scope"] == "ingest"
    assert "'ingest' scope" in body["message"] and f"/api/v1/{path}" in body["message"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert stored() == before
    key.refresh_from_db()
    assert key.last_used_at is None  # a refused call is no use of the key


@pytest.mark.parametrize("path", POSTS)
def test_an_ingest_key_may_post(client, path):
    make_customer(lms_lead_id="L-KNOWN")
    _, api = api_with(client, ApiKey.Scope.INGEST)

    assert api.post(path, POSTS[path]).status_code in {200, 201}


def test_an_ingest_only_key_may_not_read_a_customer(client):
    make_customer(lms_lead_id="L-KNOWN")
    _, api = api_with(client, ApiKey.Scope.INGEST)

    response = api.get("customers/L-KNOWN")

    assert response.status_code == 403
    assert response.json()["scope"] == "read"
    assert "'read' scope" in response.json()["message"]


def test_a_read_only_key_reads_a_customer(client):
    make_customer(lms_lead_id="L-KNOWN")
    _, api = api_with(client, ApiKey.Scope.READ)

    response = api.get("customers/L-KNOWN")

    assert response.status_code == 200
    assert response.json()["lms_lead_id"] == "L-KNOWN"


@pytest.mark.parametrize("scope", ApiKey.Scope.values)
def test_any_key_fetches_the_openapi_document(client, scope):
    _, api = api_with(client, scope)

    assert api.get("openapi.json").status_code == 200


def test_a_key_has_both_scopes_unless_told(api_key):
    assert api_key[0].scopes == ["ingest", "read"]


@pytest.mark.parametrize("scopes", [[], ["write"], ["read", "admin"]])
def test_the_database_refuses_a_key_without_a_known_scope(scopes):
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(name="bad", prefix="mos_x", key_hash="x" * 64, scopes=scopes)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_key_takes_scopes_and_list_shows_them(client):
    output = run("create_api_key", "reporting", "--scope", "read")

    assert "scopes read" in output
    raw = output.strip().splitlines()[-1]
    key = ApiKey.objects.get(key_hash=hash_key(raw))
    assert key.scopes == ["read"]
    assert Api(client, raw).post("customers", POSTS["customers"]).status_code == 403
    run("create_api_key", "both", "--scope", "read", "--scope", "ingest")
    assert ApiKey.objects.get(name="both").scopes == ["ingest", "read"]
    listing = run("list_api_keys")
    assert "scopes" in listing.splitlines()[0]
    assert "ingest,read" in next(line for line in listing.splitlines() if "both" in line)
    assert " read " in next(line for line in listing.splitlines() if "reporting" in line)


def test_create_api_key_refuses_an_unknown_scope():
    with pytest.raises(Exception, match="invalid choice: 'write'"):
        call_command("create_api_key", "x", "--scope", "write", stdout=io.StringIO())
    assert not ApiKey.objects.exists()


def migrate(target: tuple[str, str] | None) -> None:
    """To `target`, or with None to the latest migrations."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())


def test_keys_made_before_scopes_keep_full_access(client):
    migrate(("marketing_os", "0005_grant_delete"))
    raw = "mos_made-before-scopes-existed"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO api_keys (name, prefix, key_hash) VALUES ('old', %s, %s)",
            [raw[:12], hash_key(raw)],
        )

    migrate(None)

    assert ApiKey.objects.get(name="old").scopes == ["ingest", "read"]
    make_customer(lms_lead_id="L-KNOWN")
    api = Api(client, raw)
    assert api.post("customers", POSTS["customers"]).status_code == 200
    assert api.get("customers/L-KNOWN").status_code == 200
