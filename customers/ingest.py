"""The one way customers and attributes come in: the API, CSV pages and `import_csv`.

Items are validated by small plain functions (fast enough for millions of CSV
rows), then written set-wise: one `INSERT … SELECT FROM unnest(…)` per batch,
never one ORM call per row. Funnel events reuse the same pieces
(`funnel/ingest.py`).
"""

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction

from customers.models import Customer, CustomerAttribute

FieldType = CustomerAttribute.FieldType
CUSTOMER_FIELDS = ("first_name", "last_name", "email", "mobile")
MAX_LENGTHS = {
    "lms_lead_id": 255,
    "first_name": 255,
    "last_name": 255,
    "email": 320,
    "mobile": 50,
    "field_name": 100,
}
FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_ATTRIBUTES_PER_CUSTOMER = 200
MAX_JSON_VALUE_CHARS = 10_000


class Invalid(Exception):
    """One field of one item is wrong; `field` names it the way the caller sent it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ItemError:
    index: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    errors: list[ItemError] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len({error.index for error in self.errors})


# -- validating one value --------------------------------------------------


def clean_text(value: Any, name: str, *, required: bool = False) -> str | None:
    """A trimmed string (numbers are accepted and turned into text)."""
    if value is None or value == "":
        if required:
            raise Invalid(name, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(name, "must be a string")
    text = str(value).strip()
    if "\x00" in text:
        raise Invalid(name, "must not contain NUL characters")
    if required and not text:
        raise Invalid(name, "is required")
    limit = MAX_LENGTHS.get(name.rsplit(".", 1)[-1], 255)
    if len(text) > limit:
        raise Invalid(name, f"is longer than {limit} characters")
    return text or None


def parse_timestamp(value: Any, name: str) -> datetime:
    """ISO 8601; a time without a zone is taken as UTC. Returned in UTC."""
    if not isinstance(value, str):
        raise Invalid(name, "must be an ISO 8601 date-time string")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Invalid(name, f"{text[:40]!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise Invalid(name, f"{text[:40]!r} is out of range") from None


def _any_leaf(value: Any, test: Callable[[Any], bool]) -> bool:
    """Whether `test` holds for any key or scalar inside nested lists and objects."""
    if isinstance(value, list):
        return any(_any_leaf(item, test) for item in value)
    if isinstance(value, dict):
        return any(test(k) or _any_leaf(v, test) for k, v in value.items())
    return test(value)


def _has_nul(value: Any) -> bool:
    return _any_leaf(value, lambda leaf: isinstance(leaf, str) and "\x00" in leaf)


def _has_non_finite(value: Any) -> bool:
    # json.loads reads 1e400 as inf; PostgreSQL's jsonb cannot store it.
    return _any_leaf(value, lambda leaf: isinstance(leaf, float) and not math.isfinite(leaf))


def _clean_numeric(value: Any, name: str) -> int | float:
    if isinstance(value, bool):
        raise Invalid(name, "must be a number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _finite(value, name)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise Invalid(name, f"{value[:40]!r} is not a number") from None
        if not number.is_finite():
            raise Invalid(name, "must be a finite number")
        if number == number.to_integral_value() and abs(number) < 10**18:
            return int(number)
        return _finite(float(number), name)  # "1e400" is a finite Decimal, an infinite float
    raise Invalid(name, "must be a number")


def _finite(number: float, name: str) -> float:
    if not math.isfinite(number):
        raise Invalid(name, "must be a finite number (JSON has no infinity)")
    return number


def _clean_string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise Invalid(name, "must be a string")
    if "\x00" in value:
        raise Invalid(name, "must not contain NUL characters")
    return value


def _clean_date(value: Any, name: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    try:
        if not DATE_RE.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise Invalid(name, f"{str(value)[:40]!r} is not a date as YYYY-MM-DD") from None


def _clean_timestamp(value: Any, name: str) -> str:
    return parse_timestamp(value, name).isoformat().replace("+00:00", "Z")


def _clean_boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no"}:
        return False
    raise Invalid(name, "must be true or false")


def _clean_array(value: Any, name: str) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise Invalid(name, 'must be a JSON array, e.g. ["a", "b"]') from None
    if not isinstance(value, list):
        raise Invalid(name, "must be an array")
    if _has_nul(value):
        raise Invalid(name, "must not contain NUL characters")
    if _has_non_finite(value):
        raise Invalid(name, "must hold only finite numbers")
    return value


VALUE_CLEANERS: dict[str, Callable[[Any, str], Any]] = {
    FieldType.NUMERIC: _clean_numeric,
    FieldType.STRING: _clean_string,
    FieldType.DATE: _clean_date,
    FieldType.TIMESTAMP: _clean_timestamp,
    FieldType.BOOLEAN: _clean_boolean,
    FieldType.ARRAY: _clean_array,
}


def clean_attribute_value(field_type: str, value: Any, name: str = "field_value") -> Any:
    """The JSON form CONTRACT §3 gives for `value` as `field_type`."""
    if value is None:
        raise Invalid(name, "is required")
    cleaned = VALUE_CLEANERS[field_type](value, name)
    if len(json.dumps(cleaned)) > MAX_JSON_VALUE_CHARS:
        raise Invalid(name, f"is larger than {MAX_JSON_VALUE_CHARS} characters of JSON")
    return cleaned


def clean_attribute(item: Any, prefix: str = "") -> dict:
    """`{field_name, field_type, field_value}` → the same, cleaned. Raises Invalid."""
    if not isinstance(item, dict):
        raise Invalid(prefix.rstrip(".") or "item", "must be an object")
    name = clean_text(item.get("field_name"), f"{prefix}field_name", required=True)
    if not FIELD_NAME_RE.match(name):
        raise Invalid(
            f"{prefix}field_name",
            "must start with a letter or _ and hold only letters, digits, _ and -",
        )
    field_type = item.get("field_type")
    if field_type not in VALUE_CLEANERS:
        raise Invalid(f"{prefix}field_type", f"must be one of {', '.join(FieldType.values)}")
    value = clean_attribute_value(field_type, item.get("field_value"), f"{prefix}field_value")
    return {"field_name": name, "field_type": field_type, "field_value": value}


# -- validating items --------------------------------------------------------


def check_fields(item: Any, allowed: set[str]) -> dict:
    if not isinstance(item, dict):
        raise Invalid("item", "must be a JSON object")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise Invalid(unknown[0], "is not a known field")
    return item


CUSTOMER_ITEM_FIELDS = {"lms_lead_id", *CUSTOMER_FIELDS, "attributes"}


def not_reserved(lms_lead_id: str) -> str:
    """Refuse the erased customers' lms_lead_id prefix (`erased-<id>`, docs/audit.md)."""
    if lms_lead_id.startswith(Customer.ERASED_PREFIX):
        raise Invalid(
            "lms_lead_id",
            f"ids starting with {Customer.ERASED_PREFIX!r} are reserved for erased customers",
        )
    return lms_lead_id


def clean_customer(item: Any) -> dict:
    """A customer item: `lms_lead_id`, the fields present, and `attributes`."""
    check_fields(item, CUSTOMER_ITEM_FIELDS)
    lms_lead_id = clean_text(item.get("lms_lead_id"), "lms_lead_id", required=True)
    clean = {"lms_lead_id": not_reserved(lms_lead_id)}
    for name in CUSTOMER_FIELDS:
        if name in item:
            clean[name] = clean_text(item[name], name)
    attributes = item.get("attributes") or []
    if not isinstance(attributes, list):
        raise Invalid("attributes", "must be a list of {field_name, field_type, field_value}")
    if len(attributes) > MAX_ATTRIBUTES_PER_CUSTOMER:
        raise Invalid("attributes", f"holds more than {MAX_ATTRIBUTES_PER_CUSTOMER} items")
    clean["attributes"] = [
        clean_attribute(attribute, f"attributes[{position}].")
        for position, attribute in enumerate(attributes)
    ]
    return clean


CUSTOMER_REF_FIELDS = {"lms_lead_id", "customer_id"}


def clean_customer_ref(item: dict) -> dict:
    """`lms_lead_id` or `customer_id` (both may be given; they must then agree)."""
    ref: dict[str, Any] = {}
    lms_lead_id = clean_text(item.get("lms_lead_id"), "lms_lead_id")
    if lms_lead_id:
        ref["lms_lead_id"] = lms_lead_id
    customer_id = item.get("customer_id")
    if customer_id not in (None, ""):
        try:
            ref["customer_id"] = int(customer_id)
        except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400 reads as inf
            raise Invalid("customer_id", "must be a whole number") from None
        if isinstance(customer_id, bool) or not 0 < ref["customer_id"] < 2**63:
            raise Invalid("customer_id", "must be a positive whole number")
    if not ref:
        raise Invalid("lms_lead_id", "lms_lead_id or customer_id is required")
    return ref


ATTRIBUTE_ITEM_FIELDS = CUSTOMER_REF_FIELDS | {"field_name", "field_type", "field_value"}


def clean_attribute_item(item: Any) -> dict:
    check_fields(item, ATTRIBUTE_ITEM_FIELDS)
    return clean_customer_ref(item) | clean_attribute(item)


def validate_items(
    items: Sequence[Any], cleaner: Callable[[Any], dict]
) -> tuple[list[tuple[int, dict]], list[ItemError]]:
    """Clean every item; return (index, clean item) pairs and the errors."""
    valid, errors = [], []
    for index, item in enumerate(items):
        try:
            valid.append((index, cleaner(item)))
        except Invalid as invalid:
            errors.append(ItemError(index, invalid.field, invalid.message))
    return valid, errors


# -- resolving customer references ---------------------------------------------


def resolve_customers(
    valid: list[tuple[int, dict]], errors: list[ItemError]
) -> list[tuple[int, dict]]:
    """Set `customer_id` on every item; unknown customers become item errors."""
    # Sorted: the index is walked in order (fewer pages touched than in random order).
    lms_ids = sorted({item["lms_lead_id"] for _, item in valid if "lms_lead_id" in item})
    ids = sorted({item["customer_id"] for _, item in valid if "customer_id" in item})
    # One condition when only one kind of reference is used (the common case): a
    # plain index scan instead of a BitmapOr over two.
    conditions = {"lms_lead_id = ANY(%s)": lms_ids, "id = ANY(%s)": ids}
    used = {condition: keys for condition, keys in conditions.items() if keys}
    with connection.cursor() as cursor:
        cursor.execute(
            # An erased customer's tombstone takes nothing new (no attributes, no events).
            f"SELECT id, lms_lead_id FROM customers "
            f"WHERE ({' OR '.join(used)}) AND erased_at IS NULL",
            list(used.values()),
        )
        rows = cursor.fetchall()
    by_lms = {lms: pk for pk, lms in rows}
    known_ids = {pk for pk, _ in rows}
    resolved = []
    for index, item in valid:
        problem = _customer_problem(item, by_lms, known_ids)
        if problem:
            errors.append(ItemError(index, *problem))
            continue
        item["customer_id"] = item.get("customer_id") or by_lms[item["lms_lead_id"]]
        resolved.append((index, item))
    return resolved


def _customer_problem(item: dict, by_lms: dict, known_ids: set) -> tuple[str, str] | None:
    if "lms_lead_id" in item and item["lms_lead_id"] not in by_lms:
        return "lms_lead_id", f"no customer has lms_lead_id {item['lms_lead_id']!r}"
    if "customer_id" in item and item["customer_id"] not in known_ids:
        return "customer_id", f"no customer has id {item['customer_id']}"
    if "lms_lead_id" in item and "customer_id" in item:
        if by_lms[item["lms_lead_id"]] != item["customer_id"]:
            return "customer_id", "does not belong to the customer with that lms_lead_id"
    return None


# -- writing -------------------------------------------------------------------


INSERT_CUSTOMERS = """
INSERT INTO customers
    (lms_lead_id, first_name, last_name, email, mobile, created_date, updated_date)
SELECT t.lms_lead_id, t.first_name, t.last_name, t.email, t.mobile, %(now)s, %(now)s
FROM unnest(%(lms)s::text[], %(first_name)s::text[], %(last_name)s::text[],
            %(email)s::text[], %(mobile)s::text[])
     AS t(lms_lead_id, first_name, last_name, email, mobile)
ON CONFLICT (lms_lead_id) DO NOTHING
RETURNING id, lms_lead_id
"""

# Fields absent from an item keep their stored value: each value comes with a
# "present" flag, which an INSERT … ON CONFLICT cannot see (EXCLUDED holds only
# columns), hence insert-new-then-update-the-rest.
UPDATE_CUSTOMERS = """
UPDATE customers AS c SET
    first_name = CASE WHEN t.has_first_name THEN t.first_name ELSE c.first_name END,
    last_name = CASE WHEN t.has_last_name THEN t.last_name ELSE c.last_name END,
    email = CASE WHEN t.has_email THEN t.email ELSE c.email END,
    mobile = CASE WHEN t.has_mobile THEN t.mobile ELSE c.mobile END,
    updated_date = %(now)s
FROM unnest(%(lms)s::text[], %(first_name)s::text[], %(last_name)s::text[],
            %(email)s::text[], %(mobile)s::text[],
            %(has_first_name)s::bool[], %(has_last_name)s::bool[],
            %(has_email)s::bool[], %(has_mobile)s::bool[])
     AS t(lms_lead_id, first_name, last_name, email, mobile,
          has_first_name, has_last_name, has_email, has_mobile)
WHERE c.lms_lead_id = t.lms_lead_id
RETURNING c.id, c.lms_lead_id
"""

UPSERT_ATTRIBUTES = """
INSERT INTO customer_attributes
    (customer_id, field_name, field_type, field_value, created_date, updated_date)
SELECT t.customer_id, t.field_name, t.field_type, t.field_value::jsonb, %(now)s, %(now)s
FROM unnest(%(customer_id)s::bigint[], %(field_name)s::text[], %(field_type)s::text[],
            %(field_value)s::text[]) AS t(customer_id, field_name, field_type, field_value)
ON CONFLICT (customer_id, field_name) DO UPDATE SET
    field_type = EXCLUDED.field_type,
    field_value = EXCLUDED.field_value,
    updated_date = EXCLUDED.updated_date
RETURNING (xmax = 0) AS inserted
"""


def merge_customers(valid: list[tuple[int, dict]]) -> dict[str, dict]:
    """One row per lms_lead_id; a later item's present fields win."""
    merged: dict[str, dict] = {}
    for _, item in valid:
        row = merged.setdefault(item["lms_lead_id"], {"attributes": {}})
        row.update({k: v for k, v in item.items() if k != "attributes"})
        for attribute in item["attributes"]:
            row["attributes"][attribute["field_name"]] = attribute
    return merged


def write_customers(merged: dict[str, dict], *, now: datetime) -> dict[str, tuple[int, str]]:
    """Upsert customers; return lms_lead_id → (id, "created" | "updated")."""
    rows = [merged[lms] for lms in sorted(merged)]  # one lock order: no deadlocks
    params: dict[str, Any] = {"now": now, "lms": [row["lms_lead_id"] for row in rows]}
    for name in CUSTOMER_FIELDS:
        params[name] = [row.get(name) for row in rows]
        params[f"has_{name}"] = [name in row for row in rows]
    outcome: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(INSERT_CUSTOMERS, params)
        outcome.update({lms: (pk, "created") for pk, lms in cursor.fetchall()})
        rest = [i for i, row in enumerate(rows) if row["lms_lead_id"] not in outcome]
        if rest:
            subset = {
                k: [v[i] for i in rest] if isinstance(v, list) else v for k, v in params.items()
            }
            cursor.execute(UPDATE_CUSTOMERS, subset)
            outcome.update({lms: (pk, "updated") for pk, lms in cursor.fetchall()})
    return outcome


def write_attributes(rows: list[dict], *, now: datetime) -> tuple[int, int]:
    """Upsert by (customer_id, field_name); return (created, updated)."""
    unique = {(row["customer_id"], row["field_name"]): row for row in rows}
    rows = [unique[key] for key in sorted(unique)]
    if not rows:
        return 0, 0
    with connection.cursor() as cursor:
        cursor.execute(
            UPSERT_ATTRIBUTES,
            {
                "now": now,
                "customer_id": [row["customer_id"] for row in rows],
                "field_name": [row["field_name"] for row in rows],
                "field_type": [row["field_type"] for row in rows],
                "field_value": [json.dumps(row["field_value"]) for row in rows],
            },
        )
        inserted = [flag for (flag,) in cursor.fetchall()]
    return sum(inserted), len(inserted) - sum(inserted)


def validate_referring_items(
    items: Sequence[Any], cleaner: Callable[[Any], dict]
) -> tuple[list[tuple[int, dict]], IngestResult]:
    """Clean items that name a customer and resolve it; a result holding the errors."""
    valid, errors = validate_items(items, cleaner)
    if valid:
        valid = resolve_customers(valid, errors)
    return valid, IngestResult(errors=sorted(errors, key=lambda e: e.index))


# -- the entry points ------------------------------------------------------------


def ingest_customers(
    items: Sequence[Any], *, now: datetime, skip_invalid: bool = False
) -> IngestResult:
    """Upsert customers (and their attributes) by `lms_lead_id`.

    With `skip_invalid` (CSV) valid items are stored and bad ones reported;
    without it (API) any bad item means nothing is stored.
    """
    valid, errors = validate_items(items, clean_customer)
    result = IngestResult(errors=errors)
    if (errors and not skip_invalid) or not valid:
        return result
    merged = merge_customers(valid)
    with transaction.atomic():
        outcome = write_customers(merged, now=now)
        attributes = [
            attribute | {"customer_id": outcome[lms][0]}
            for lms, row in merged.items()
            for attribute in row["attributes"].values()
        ]
        write_attributes(attributes, now=now)
    seen: set[str] = set()
    for index, item in valid:
        pk, status = outcome[item["lms_lead_id"]]
        status = "updated" if item["lms_lead_id"] in seen else status
        seen.add(item["lms_lead_id"])
        result.results.append(
            {"index": index, "id": pk, "lms_lead_id": item["lms_lead_id"], "status": status}
        )
    result.created = sum(1 for r in result.results if r["status"] == "created")
    result.updated = len(result.results) - result.created
    return result


def ingest_attributes(
    items: Sequence[Any], *, now: datetime, skip_invalid: bool = False
) -> IngestResult:
    """Upsert attributes by (customer, `field_name`); unknown customers are item errors."""
    valid, result = validate_referring_items(items, clean_attribute_item)
    if (result.errors and not skip_invalid) or not valid:
        return result
    with transaction.atomic():
        result.created, result.updated = write_attributes([item for _, item in valid], now=now)
    return result
