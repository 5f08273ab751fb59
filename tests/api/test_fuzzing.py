"""Schemathesis fuzzes every operation in /api/v1/openapi.json with a real API key.

Generated requests (valid and deliberately invalid) must never get a 5xx, and
every answer must be one the document declares, with the declared content type
and body shape. Examples are limited so the whole run stays well under a minute.

The document is fetched from the endpoint itself and the requests go through the
real WSGI application. (Schemathesis' `from_fixture` loader does not work with
pytest 9 — it reads a private `_nodeid` that pytest 9 no longer has — so each
operation's strategy is driven by Hypothesis directly.)
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketing_os.models import create_api_key
from marketing_os.openapi import paths
from tests.factories import make_customer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OPERATIONS = [(path, method) for path, methods in paths().items() for method in methods]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),  # fixtures are set up once per operation on purpose
)


@pytest.fixture
def application():
    """The real WSGI app; it would close the test's connection after each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def refer_to(lms_lead_id: str):
    """Point a generated case at a customer that exists (else nearly every one is a 422/404)."""

    def rewrite(case):
        items = case.body if isinstance(case.body, list) else [case.body]
        for item in items:
            if isinstance(item, dict) and ({"lms_lead_id", "customer_id"} & set(item)):
                item["lms_lead_id"] = lms_lead_id
                item.pop("customer_id", None)
        if "lms_lead_id" in (case.path_parameters or {}):
            case.path_parameters["lms_lead_id"] = lms_lead_id
        return case

    return rewrite


@pytest.fixture
def auth() -> dict:
    # A limit (so the counter runs) the run cannot reach: shrinking sends many requests.
    _, raw = create_api_key("fuzzer", rate_limit_per_minute=1_000_000)
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=lambda value: value)
def test_the_api_never_fails_and_answers_as_documented(path, method, application, auth):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, headers=auth)
    operation = schema[path][method.upper()]

    valid = operation.as_strategy(GenerationMode.POSITIVE)
    invalid = operation.as_strategy(GenerationMode.NEGATIVE)
    valid_or_not = valid | valid.map(refer_to(make_customer().lms_lead_id)) | invalid

    @FUZZ
    @given(case=valid_or_not)
    def call(case):
        case.call_and_validate(app=application, headers=auth, checks=CHECKS)

    call()
