"""`/api/v1/docs`: the OpenAPI document rendered on the server for people.

Everything shown comes from `openapi_document`, so the page and the document
cannot disagree. No scripts and nothing from a CDN (CSP is `script-src 'self'`).
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from marketing_os.api import api_endpoint, login_or_redirect
from marketing_os.openapi import openapi_document, server_url


@dataclass
class FieldRow:
    name: str
    kind: str
    required: bool
    description: SafeString


@dataclass
class Endpoint:
    method: str
    path: str
    summary: str
    description: SafeString
    anchor: str
    fields: list[FieldRow] = field(default_factory=list)
    request_example: str = ""
    responses: list[tuple[str, SafeString, str]] = field(default_factory=list)
    idempotent: bool = False


def resolve(document: dict, schema: dict) -> dict:
    """Follow a local `$ref` ("#/components/…") to the schema it names."""
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def describe_type(schema: dict) -> str:
    kinds = schema.get("type", "any")
    words = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if "enum" in schema:
        words = "one of " + ", ".join(schema["enum"])
    if "format" in schema:
        words += f" ({schema['format']})"
    if "maxLength" in schema:
        words += f", ≤ {schema['maxLength']} characters"
    if "maxItems" in schema:
        words += f", ≤ {schema['maxItems']} items"
    return words


def field_rows(document: dict, schema: dict, prefix: str = "") -> list[FieldRow]:
    """The properties of an object schema, nested arrays of objects flattened as a[].b."""
    schema = resolve(document, schema)
    rows = []
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(document, prop)
        required = name in schema.get("required", [])
        notes = inline_html(prop.get("description", ""))
        rows.append(FieldRow(prefix + name, describe_type(prop), required, notes))
        items = resolve(document, prop.get("items", {}))
        if items.get("type") == "object":
            rows.extend(field_rows(document, items, f"{prefix}{name}[]."))
    return rows


def request_item_schema(document: dict, operation: dict) -> dict:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    return schema.get("oneOf", [schema])[0] if schema else {}


def describe_responses(document: dict, operation: dict) -> list[tuple[str, SafeString, str]]:
    rows = []
    for status, answer in operation["responses"].items():
        answer = resolve(document, answer)
        example = answer.get("content", {}).get("application/json", {}).get("example")
        shown = json.dumps(example, indent=2) if example is not None else ""
        rows.append((status, inline_html(answer["description"]), shown))
    return rows


def describe_endpoints(document: dict) -> list[Endpoint]:
    endpoints = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            item = request_item_schema(document, operation)
            example = operation.get("requestBody", {}).get("content", {})
            example = example.get("application/json", {}).get("example")
            endpoints.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    summary=operation["summary"],
                    description=inline_html(operation.get("description", "")),
                    anchor=operation["operationId"],
                    fields=field_rows(document, item) if item else [],
                    request_example=json.dumps(example, indent=2) if example else "",
                    responses=describe_responses(document, operation),
                    idempotent=any(
                        p.get("$ref", "").endswith("IdempotencyKey")
                        for p in operation.get("parameters", [])
                    ),
                )
            )
    return endpoints


def inline_html(text: str) -> SafeString:
    """Escaped text with Markdown's **bold** and `code` made HTML."""
    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return mark_safe(re.sub(r"`(.+?)`", r"<code>\1</code>", text))  # escaped above


def description_html(markdown: str) -> SafeString:
    """The little Markdown the document uses: paragraphs, `* ` lists, **bold**, `code`."""
    html = []
    for block in markdown.strip().split("\n\n"):
        items: list[str] = []
        for line in block.splitlines():
            if line.startswith("* ") or not items:
                items.append(line.removeprefix("* "))
            else:
                items[-1] += " " + line.strip()
        if block.startswith("* "):
            html.append("<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in items) + "</ul>")
        else:
            html.append(f"<p>{inline_html(' '.join(items))}</p>")
    return mark_safe("".join(html))  # every piece of text went through escape()


@api_endpoint("GET", "HEAD")
def api_docs(request: HttpRequest) -> HttpResponse:
    redirect = login_or_redirect(request)
    if redirect:
        return redirect
    document = openapi_document(server_url=server_url(request))
    context = {
        "document": document,
        "info": document["info"],
        "description": description_html(document["info"]["description"]),
        "server": document["servers"][0]["url"],
        "endpoints": describe_endpoints(document),
    }
    return render(request, "api/docs.html", context)
