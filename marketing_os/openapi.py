"""The OpenAPI 3.1 document of the JSON API (`/api/v1/openapi.json`).

It is built from the same constants the ingest functions check (lengths, types,
limits), so it cannot drift from what the API accepts. `api_docs.py` renders it
for people.
"""

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from customers.ingest import MAX_ATTRIBUTES_PER_CUSTOMER, MAX_JSON_VALUE_CHARS, MAX_LENGTHS
from customers.models import CustomerAttribute
from funnel.models import FunnelEvent
from marketing_os.api import (
    IDEMPOTENCY_KEY_MAX_CHARS,
    MAX_DEPTH,
    api_endpoint,
    require_key_or_login,
)
from marketing_os.models import ApiKey

ERROR_CODES = {
    "400": ("BadRequest", "The body is not JSON, not an object or array, empty, or too deep."),
    "401": ("Unauthorized", "The API key is missing, wrong or revoked."),
    "403": ("Forbidden", "The API key lacks the scope this operation needs (`scope` names it)."),
    "404": ("NotFound", "No such customer or endpoint."),
    "405": ("MethodNotAllowed", "Another HTTP method is expected; see the Allow header."),
    "409": ("Conflict", "The Idempotency-Key was used for a different request within 24 h."),
    "413": ("PayloadTooLarge", "The body is over the byte limit or holds too many items."),
    "415": ("UnsupportedMediaType", "The Content-Type is not application/json (UTF-8)."),
    "429": (
        "TooManyRequests",
        "The key's rate limit for this minute is used up; retry after `Retry-After` seconds. "
        "Nothing was stored.",
    ),
}

RATE_HEADERS = {
    "X-RateLimit-Limit": "Requests a minute this key may make (absent: unlimited).",
    "X-RateLimit-Remaining": "Requests left in this minute.",
    "X-RateLimit-Reset": "Seconds until the minute ends and the count starts again.",
}
HEADERS = {
    name.replace("-", ""): {"description": text, "schema": {"type": "integer", "minimum": 0}}
    for name, text in RATE_HEADERS.items()
} | {
    "RetryAfter": {
        "description": "Seconds to wait before retrying (1–60).",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def rate_headers(*, retry: bool = False) -> dict:
    headers = {name: ref("headers", name.replace("-", "")) for name in RATE_HEADERS}
    return headers | ({"Retry-After": ref("headers", "RetryAfter")} if retry else {})


def text(name: str, description: str, *, nullable: bool = True) -> dict:
    kinds = ["string", "null"] if nullable else "string"
    schema = {"type": kinds, "maxLength": MAX_LENGTHS.get(name, 255), "description": description}
    # Required text is trimmed, so "" and "  " are refused (422): say so.
    return schema if nullable else schema | {"minLength": 1, "pattern": r"\S"}


CUSTOMER_REF = {
    "lms_lead_id": text("lms_lead_id", "The customer's id in the LMS.", nullable=False),
    "customer_id": {"type": "integer", "minimum": 1, "description": "The customer's id here."},
}
ONE_CUSTOMER_REF = [{"required": ["lms_lead_id"]}, {"required": ["customer_id"]}]

ATTRIBUTE_FIELDS = {
    "field_name": {
        "type": "string",
        "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$",
        "maxLength": MAX_LENGTHS["field_name"],
        "description": "Attributes upsert by name.",
    },
    "field_type": {"type": "string", "enum": CustomerAttribute.FieldType.values},
    "field_value": {
        "type": ["number", "string", "boolean", "array"],
        "description": (
            "A value of `field_type`, or a string that parses as one: numeric → number, "
            'date → "YYYY-MM-DD", timestamp → ISO 8601 (no zone means UTC), boolean → '
            'true/false (or "true", "yes", "1", …), array → JSON array (or its JSON '
            f"text). At most {MAX_JSON_VALUE_CHARS} characters as JSON."
        ),
    },
}

SCHEMAS: dict[str, dict] = {
    "Attribute": {
        "type": "object",
        "required": ["field_name", "field_type", "field_value"],
        "additionalProperties": False,
        "properties": ATTRIBUTE_FIELDS,
    },
    "CustomerItem": {
        "type": "object",
        "description": "Upserted by `lms_lead_id`: fields present overwrite (null clears), "
        "absent fields keep their value.",
        "required": ["lms_lead_id"],
        "additionalProperties": False,
        "properties": {
            "lms_lead_id": CUSTOMER_REF["lms_lead_id"],
            "first_name": text("first_name", "First name."),
            "last_name": text("last_name", "Last name."),
            "email": text("email", "Email address."),
            "mobile": text("mobile", "Mobile number."),
            "attributes": {
                "type": "array",
                "maxItems": MAX_ATTRIBUTES_PER_CUSTOMER,
                "items": {"$ref": "#/components/schemas/Attribute"},
                "description": "Upserted by `field_name`; attributes not listed stay.",
            },
        },
    },
    "CustomerAttributeItem": {
        "type": "object",
        "description": "Upserted by (customer, `field_name`). Give `lms_lead_id` or "
        "`customer_id` (both must then agree); an unknown customer is an item error.",
        "required": ["field_name", "field_type", "field_value"],
        "anyOf": ONE_CUSTOMER_REF,
        "additionalProperties": False,
        "properties": CUSTOMER_REF | ATTRIBUTE_FIELDS,
    },
    "FunnelEventItem": {
        "type": "object",
        "description": "A customer moving between stages. Give `lms_lead_id` or `customer_id`.",
        "required": ["funnel_type", "to_stage"],
        "anyOf": ONE_CUSTOMER_REF,
        "additionalProperties": False,
        "properties": CUSTOMER_REF
        | {
            "funnel_type": {"type": "string", "enum": FunnelEvent.FunnelType.values},
            "from_stage": text("from_stage", "Null (or absent) when entering the funnel."),
            "to_stage": text("to_stage", "The stage reached.", nullable=False),
            "created_date": {
                "type": "string",
                "format": "date-time",
                "description": "When it happened (ISO 8601, no zone means UTC); default now.",
            },
        },
    },
    "CustomersAnswer": {
        "type": "object",
        "required": ["created", "updated", "results"],
        "properties": {
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "results": {
                "type": "array",
                "description": "One entry per item sent, in order.",
                "items": {
                    "type": "object",
                    "required": ["index", "id", "lms_lead_id", "status"],
                    "properties": {
                        "index": {"type": "integer"},
                        "id": {"type": "integer"},
                        "lms_lead_id": {"type": "string"},
                        "status": {"type": "string", "enum": ["created", "updated"]},
                    },
                },
            },
        },
    },
    "AttributesAnswer": {
        "type": "object",
        "required": ["created", "updated"],
        "properties": {"created": {"type": "integer"}, "updated": {"type": "integer"}},
    },
    "EventsAnswer": {
        "type": "object",
        "required": ["created", "ids"],
        "properties": {
            "created": {"type": "integer"},
            "ids": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The new events' ids, in the order sent.",
            },
        },
    },
    "Customer": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "lms_lead_id": {"type": "string"},
            "first_name": {"type": ["string", "null"]},
            "last_name": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "mobile": {"type": ["string", "null"]},
            "created_date": {"type": "string", "format": "date-time"},
            "updated_date": {"type": "string", "format": "date-time"},
            "attributes": {"type": "array", "items": {"$ref": "#/components/schemas/Attribute"}},
        },
    },
    "ItemErrors": {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "description": "Every bad item, by its position in the request (0-based).",
                "items": {
                    "type": "object",
                    "required": ["index", "field", "message"],
                    "properties": {
                        "index": {"type": "integer"},
                        "field": {
                            "type": "string",
                            "description": "e.g. attributes[2].field_value",
                        },
                        "message": {"type": "string"},
                    },
                },
            }
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. bad_json."},
            "message": {"type": "string", "description": "What went wrong, for people."},
            "max_items": {"type": "integer", "description": "With too_many_items."},
            "max_bytes": {"type": "integer", "description": "With payload_too_large."},
            "scope": {
                "type": "string",
                "enum": ApiKey.Scope.values,
                "description": "With insufficient_scope: the scope the key lacks.",
            },
            "retry_after": {
                "type": "integer",
                "description": "With rate_limited: seconds to wait, as in Retry-After.",
            },
        },
    },
}

EXAMPLES = {
    "/customers": (
        [
            {
                "lms_lead_id": "LMS-1001",
                "first_name": "Asha",
                "email": "asha@example.com",
                "attributes": [
                    {"field_name": "city", "field_type": "string", "field_value": "Pune"},
                    {"field_name": "score", "field_type": "numeric", "field_value": 72},
                ],
            }
        ],
        {
            "created": 1,
            "updated": 0,
            "results": [{"index": 0, "id": 17, "lms_lead_id": "LMS-1001", "status": "created"}],
        },
    ),
    "/customer-attributes": (
        {"lms_lead_id": "LMS-1001", "field_name": "enrolled", "field_type": "boolean",
         "field_value": True},
        {"created": 1, "updated": 0},
    ),
    "/funnel-events": (
        {"lms_lead_id": "LMS-1001", "funnel_type": "sales", "from_stage": "lead",
         "to_stage": "contacted", "created_date": "2026-11-24T09:30:00Z"},
        {"created": 1, "ids": [4021]},
    ),
}  # fmt: skip

ITEM_ERRORS_EXAMPLE = {
    "errors": [
        {"index": 0, "field": "lms_lead_id", "message": "is required"},
        {"index": 3, "field": "attributes[1].field_value", "message": "must be true or false"},
    ]
}


def ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def json_content(schema: dict, example: Any = None) -> dict:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


def error_responses(*statuses: str) -> dict:
    return {status: ref("responses", ERROR_CODES[status][0]) for status in statuses}


def ingest_operation(
    path: str, item: str, answer: str, *, status: str, summary: str, description: str
) -> dict:
    request_example, answer_example = EXAMPLES[path]
    body_schema = {
        "oneOf": [
            ref("schemas", item),
            {
                "type": "array",
                "minItems": 1,
                "maxItems": settings.API_MAX_ITEMS,
                "items": ref("schemas", item),
            },
        ]
    }
    return {
        "post": {
            "operationId": path.strip("/").replace("-", "_") + "_post",
            "summary": summary,
            "description": description + " Needs a key with the `ingest` scope.",
            # OpenAPI 3.1: for schemes other than OAuth the list names the roles needed.
            "security": [{"bearerAuth": [ApiKey.Scope.INGEST.value]}],
            "parameters": [ref("parameters", "IdempotencyKey")],
            "requestBody": {
                "required": True,
                "content": json_content(body_schema, request_example),
            },
            "responses": {
                status: {
                    "description": "Stored. A replay of an Idempotency-Key carries the header "
                    "`Idempotent-Replayed: true`.",
                    "headers": rate_headers(),
                    "content": json_content(ref("schemas", answer), answer_example),
                },
                "422": ref("responses", "ItemErrors"),
            }
            | error_responses("400", "401", "403", "405", "409", "413", "415", "429"),
        }
    }


def paths() -> dict:
    return {
        "/api/v1/customers": ingest_operation(
            "/customers",
            "CustomerItem",
            "CustomersAnswer",
            status="200",
            summary="Create or update customers",
            description="Upsert by `lms_lead_id`, with their attributes.",
        ),
        "/api/v1/customers/{lms_lead_id}": {
            "get": {
                "operationId": "customer_get",
                "summary": "Read one customer",
                "description": "The customer with this `lms_lead_id`, with its attributes. "
                "Needs a key with the `read` scope.",
                "security": [{"bearerAuth": [ApiKey.Scope.READ.value]}],
                "parameters": [
                    {
                        "name": "lms_lead_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],  # fmt: skip
                "responses": {
                    "200": {
                        "description": "The customer.",
                        "headers": rate_headers(),
                        "content": json_content(ref("schemas", "Customer")),
                    }  # fmt: skip
                }
                | error_responses("401", "403", "404", "405", "429"),
            }
        },
        "/api/v1/customer-attributes": ingest_operation(
            "/customer-attributes",
            "CustomerAttributeItem",
            "AttributesAnswer",
            status="200",
            summary="Set customer attributes",
            description="Upsert attributes by (customer, `field_name`).",
        ),
        "/api/v1/funnel-events": ingest_operation(
            "/funnel-events",
            "FunnelEventItem",
            "EventsAnswer",
            status="201",
            summary="Record funnel events",
            description="Insert events; they are never changed afterwards.",
        ),
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi_get",
                "summary": "This document",
                "description": "Needs an API key or a logged-in session.",
                "security": [{"bearerAuth": []}, {"session": []}],
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": json_content({})}}
                | error_responses("401", "405", "429"),
            }
        },
        "/api/v1/docs": {
            "get": {
                "operationId": "docs_get",
                "summary": "This document as a web page",
                "description": "For people: logged-out visitors are sent to the login page.",
                "security": [{"session": []}],
                "responses": {
                    "200": {
                        "description": "HTML.",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "302": {"description": "Not logged in: to the login page."},
                },
            }
        },
    }


DESCRIPTION = f"""\
JSON API of Marketing OS: upstream systems push customers, their attributes and
funnel events.

* **Auth**: `Authorization: Bearer <key>`; keys are made on the API keys page
  (`/settings/api-keys/`, admins) or with `manage.py create_api_key <name>`.
  A key has the scopes `ingest` (the POST endpoints) and/or `read` (reading a
  customer); calling without the scope needed gets 403 `insufficient_scope`.
* **Items**: every POST takes one object or a JSON array of at most
  {{max_items}} objects. A request is all-or-nothing: if any item is invalid the
  answer is 422 naming every bad item by `index` and `field`, and nothing is stored.
* **Limits**: at most {{max_bytes}} bytes per body (413), {{max_items}} items (413),
  JSON nested at most {MAX_DEPTH} levels (400).
* **Idempotency**: send `Idempotency-Key` (at most {IDEMPOTENCY_KEY_MAX_CHARS}
  characters) to make a POST safe to retry. A repeat within 24 h with the same
  body returns the first answer again (header `Idempotent-Replayed: true`) and
  stores nothing; with a different body it gets 409. Only successful answers are
  kept: after a 4xx the same key may be used again.
* **Rate limits**: each key may make {{rate_limit}} requests a minute unless
  it has a limit of its own (0: unlimited). Every answer to a key carries
  `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds
  until the minute ends); over the limit the answer is 429 with `Retry-After`
  (seconds) and nothing is stored. Replays of an Idempotency-Key count too.
* **Errors** other than 422 are `{{{{"error": code, "message": text}}}}`.
"""


@cache
def _document(max_items: int, max_bytes: int, rate_limit: int) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Marketing OS API",
            "version": "1.0.0",
            "description": DESCRIPTION.format(
                max_items=max_items, max_bytes=max_bytes, rate_limit=rate_limit or "unlimited"
            ),
        },
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "responses": {
                name: {"description": description, "content": json_content(ref("schemas", "Error"))}
                for name, description in ERROR_CODES.values()
            }
            | {
                "TooManyRequests": {
                    "description": ERROR_CODES["429"][1],
                    "headers": rate_headers(retry=True),
                    "content": json_content(ref("schemas", "Error")),
                }
            }
            | {
                "ItemErrors": {
                    "description": "Some items are invalid; nothing was stored.",
                    "content": json_content(ref("schemas", "ItemErrors"), ITEM_ERRORS_EXAMPLE),
                }
            },
            "headers": HEADERS,
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "Makes the POST safe to retry for 24 h.",
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": IDEMPOTENCY_KEY_MAX_CHARS,
                    },
                }  # fmt: skip
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME},
            },
        },
    }


def openapi_document(*, server_url: str) -> dict:
    """The document, with `server_url` (e.g. https://mos.example.com) as its server."""
    document = dict(
        _document(
            settings.API_MAX_ITEMS, settings.API_MAX_BODY_BYTES, settings.API_RATE_LIMIT_PER_MINUTE
        )
    )
    return document | {"servers": [{"url": server_url}]}


def server_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@api_endpoint("GET", "HEAD")
def openapi_json(request: HttpRequest) -> HttpResponse:
    require_key_or_login(request)
    return JsonResponse(openapi_document(server_url=server_url(request)))
