import re

import pytest
from django.urls import URLPattern

from marketing_os import api_urls
from marketing_os.api_docs import describe_endpoints
from marketing_os.openapi import openapi_document

pytestmark = pytest.mark.django_db


def route_paths() -> set[str]:
    """Every route under /api/v1/, as OpenAPI spells paths ({name} for parameters)."""
    paths = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        paths.add("/api/v1/" + route)
    return paths


def all_refs(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in all_refs(value)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []


def test_the_document_lists_every_route_and_nothing_else(api):
    document = api.get("openapi.json").json()

    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == route_paths()


def test_every_reference_in_the_document_resolves(api):
    document = api.get("openapi.json").json()

    for ref in all_refs(document):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_every_post_documents_its_errors_idempotency_and_item_limit(api, settings):
    document = api.get("openapi.json").json()
    posts = [ops["post"] for ops in document["paths"].values() if "post" in ops]

    assert len(posts) == 3
    for post in posts:
        assert {"400", "401", "409", "413", "415", "422"} <= set(post["responses"])
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in post["parameters"]
        array = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"][1]
        assert array["maxItems"] == settings.API_MAX_ITEMS
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]
    header = document["components"]["parameters"]["IdempotencyKey"]
    assert (header["in"], header["schema"]["maxLength"]) == ("header", 255)


def test_the_document_names_the_server_it_was_asked_from(api):
    document = api.get("openapi.json").json()

    assert document["servers"] == [{"url": "http://testserver"}]


def test_the_document_needs_a_key_or_a_login(client, logged_in, api):
    assert api.get("openapi.json", key=None).status_code == 200  # logged in
    client.logout()
    assert api.get("openapi.json", key=None).status_code == 401
    assert api.get("openapi.json").status_code == 200


def test_the_docs_page_renders_every_endpoint_from_the_document(logged_in):
    response = logged_in.get("/api/v1/docs")

    assert response.status_code == 200
    page = response.content.decode()
    for endpoint in describe_endpoints(openapi_document(server_url="http://testserver")):
        assert f'id="{endpoint.anchor}"' in page
        assert f"<code>{endpoint.path}</code>" in page
    assert "attributes[].field_value" in page
    assert "Idempotency-Key" in page
    assert "<script>" not in page and "cdn" not in page.lower()


def test_the_docs_page_sends_strangers_to_the_login_page(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/api/v1/docs")


def test_the_docs_page_answers_405_in_json_to_a_post(logged_in):
    response = logged_in.post("/api/v1/docs")

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_operations_with_a_scope_document_403_and_every_keyed_one_429(api):
    document = api.get("openapi.json").json()
    operations = {
        (path, method): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    scoped = {
        key: op for key, op in operations.items() if op.get("security", [{}])[0].get("bearerAuth")
    }

    assert {
        (path, method, op["security"][0]["bearerAuth"][0]) for (path, method), op in scoped.items()
    } == {
        ("/api/v1/customers", "post", "ingest"),
        ("/api/v1/customer-attributes", "post", "ingest"),
        ("/api/v1/funnel-events", "post", "ingest"),
        ("/api/v1/customers/{lms_lead_id}", "get", "read"),
    }
    for op in scoped.values():
        assert {"403", "429"} <= set(op["responses"])
        success = next(
            answer for status, answer in op["responses"].items() if status.startswith("2")
        )
        assert set(success["headers"]) == {
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        }
    assert "429" in operations[("/api/v1/openapi.json", "get")]["responses"]
    too_many = document["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in too_many["headers"]
