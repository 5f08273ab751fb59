"""What every POST shares: methods, media type, size and item limits, malformed bodies."""

import io
import json
from decimal import Decimal

import pytest
from django.test import override_settings

from customers.models import Customer, CustomerAttribute
from funnel.models import FunnelEvent
from marketing_os.api import ApiError, read_body

pytestmark = pytest.mark.django_db
ENDPOINTS = ["customers", "customer-attributes", "funnel-events"]


def nothing_stored() -> bool:
    return not (
        Customer.objects.exists()
        or CustomerAttribute.objects.exists()
        or FunnelEvent.objects.exists()
    )


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_it_answers_405_in_json_for_other_methods(api, path, method):
    response = getattr(api.client, method)(f"/api/v1/{path}", headers=api.headers(api.raw_key, {}))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_it_answers_415_for_anything_but_json(api, content_type):
    response = api.post("customers", body='{"lms_lead_id": "L-1"}', content_type=content_type)

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert nothing_stored()


def test_it_accepts_json_with_a_utf8_charset(api):
    response = api.post(
        "customers", body='{"lms_lead_id": "L-1"}', content_type="application/json; charset=UTF-8"
    )

    assert response.status_code == 200


@pytest.mark.parametrize("body", ["{", "[1,", "nope", "", "   ", "{'a': 1}", '{"a": NaN}'])
def test_it_answers_400_for_bad_json(api, body):
    # The test client drops Content-Type for an empty body; a real client keeps it.
    response = api.post("customers", body=body, CONTENT_TYPE="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "bad_json"


@pytest.mark.parametrize("body", ["[]", "42", '"text"', "null", "true"])
def test_it_answers_400_when_the_body_is_not_an_object_or_a_non_empty_array(api, body):
    response = api.post("customers", body=body)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@override_settings(API_MAX_ITEMS=3)
@pytest.mark.parametrize("path", ENDPOINTS)
def test_it_answers_413_when_there_are_more_items_than_the_limit(api, path):
    items = [{"lms_lead_id": f"L-{i}"} for i in range(4)]

    response = api.post(path, items)

    assert response.status_code == 413
    assert response.json() == {
        "error": "too_many_items",
        "message": "Send at most 3 items per request.",
        "max_items": 3,
    }
    assert nothing_stored()


@override_settings(API_MAX_ITEMS=3)
def test_it_accepts_exactly_the_item_limit(api):
    response = api.post("customers", [{"lms_lead_id": f"L-{i}"} for i in range(3)])

    assert response.status_code == 200
    assert Customer.objects.count() == 3


@override_settings(API_MAX_BODY_BYTES=1024)
def test_it_answers_413_when_the_body_is_over_the_byte_limit(api):
    body = json.dumps({"lms_lead_id": "L-1", "first_name": "x" * 1100})

    response = api.post("customers", body=body)

    assert response.status_code == 413
    assert response.json()["max_bytes"] == 1024
    assert nothing_stored()


@override_settings(API_MAX_BODY_BYTES=1024)
def test_it_answers_413_from_the_declared_length_without_reading_the_body(api):
    response = api.post("customers", body="{}", CONTENT_LENGTH="5000000")

    assert response.status_code == 413


@override_settings(API_MAX_BODY_BYTES=1024)
def test_it_stops_reading_at_the_limit_even_when_the_declared_length_is_small(rf):
    # Django bounds the stream by Content-Length, but the check while reading must
    # hold alone (e.g. behind a server that passes a chunked body through).
    request = rf.post("/api/v1/customers", data="{}", content_type="application/json")
    request._stream = io.BytesIO(b"[" + b"{}," * 2000 + b"{}]")

    with pytest.raises(ApiError) as raised:
        read_body(request)

    assert raised.value.status == 413


def deep(levels: int) -> str:
    return '{"lms_lead_id": "L-1", "attributes": ' + "[" * levels + "]" * levels + "}"


MALFORMED = {
    "nesting past the parser": deep(100_000),
    "nesting within the parser": deep(500),
    "deep array value": '{"lms_lead_id": "L-1", "attributes": [{"field_name": "a", '
    '"field_type": "array", "field_value": ' + "[" * 40 + "]" * 40 + "}]}",
    "huge integer": '{"lms_lead_id": ' + "9" * 5000 + "}",
    "huge float": '{"lms_lead_id": "L-1", "attributes": [{"field_name": "n", '
    '"field_type": "numeric", "field_value": 1e999}]}',
    "huge customer id": '{"to_stage": "x", "customer_id": ' + "9" * 400 + "}",
    "NUL in a value": '{"lms_lead_id": "L\\u00001"}',
    "NUL in a key": '{"lms\\u0000lead_id": "L-1"}',
    "lone surrogate": '{"lms_lead_id": "\\ud800"}',
    "wrong types": '{"lms_lead_id": ["L-1"], "first_name": {"a": 1}, "attributes": "no"}',
    "attributes not objects": '{"lms_lead_id": "L-1", "attributes": [1, null, "x"]}',
    "items not objects": '[1, "two", null, [], true]',
    "Infinity": '{"lms_lead_id": Infinity}',
}  # fmt: skip


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_no_malformed_input_gets_a_500_or_html(api, path, body):
    response = api.post(path, body=body)

    assert response.status_code in {400, 413, 422}, response.content
    assert response["Content-Type"] == "application/json"
    assert nothing_stored()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_that_is_not_utf8_gets_400(api, path):
    response = api.post(path, body=b'{"lms_lead_id": "\xff\xfe caf\xe9"}')

    assert response.status_code == 400
    assert "UTF-8" in response.json()["message"]


def test_a_utf8_byte_order_mark_is_ignored(api):
    response = api.post("customers", body='\ufeff{"lms_lead_id": "L-1"}'.encode())

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/", "/api/v1/", "/api/v1/nothing", "/api/v2/customers", "/api/v1/customers/"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_api_paths_answer_json_404(client, path, method):
    response = getattr(client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_unknown_api_paths_answer_json_even_with_debug_on(client, settings):
    settings.DEBUG = True  # Django's own 404 page would then be its HTML debug page

    response = client.get("/api/v1/nothing")

    assert (response.status_code, response["Content-Type"]) == (404, "application/json")


def test_an_unexpected_failure_still_answers_json(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("customers.api.ingest_customers", broken)

    response = api.post("customers", {"lms_lead_id": "L-1"})

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "a bug" not in response.content.decode()


@pytest.mark.parametrize(
    ("handler", "status"),
    [("bad_request", 400), ("permission_denied", 403), ("page_not_found", 404)],
)
def test_the_error_handlers_answer_json_under_api_and_html_elsewhere(rf, handler, status):
    from marketing_os import api

    under_api = getattr(api, handler)(rf.get("/api/v1/x"), Exception())
    elsewhere = getattr(api, handler)(rf.get("/customers/x"), Exception())

    assert (under_api.status_code, under_api["Content-Type"]) == (status, "application/json")
    assert elsewhere.status_code == status and "html" in elsewhere["Content-Type"]


def test_the_500_handler_answers_json_under_api(rf):
    from marketing_os import api

    response = api.server_error(rf.get("/api/v1/customers"))

    assert (response.status_code, response["Content-Type"]) == (500, "application/json")


@pytest.mark.parametrize("number", ["9" * 4000, "-1e308", "1.5e-320", "0.1"])
def test_very_large_or_small_numbers_that_json_can_hold_are_stored_as_sent(api, number):
    body = (
        '{"lms_lead_id": "L-1", "attributes": [{"field_name": "n", "field_type": "numeric", '
        f'"field_value": {number}}}]}}'
    )

    response = api.post("customers", body=body)

    assert response.status_code == 200
    stored = CustomerAttribute.objects.get().field_value
    assert Decimal(str(stored)) == Decimal(number)  # PostgreSQL may write 1e308 out in full
