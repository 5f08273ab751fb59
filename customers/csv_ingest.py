"""The CSV import's writers for customers and attributes: millions of rows, set-wise.

`import_csv` and the upload page hand each chunk of rows (dicts of non-blank
cell text, see `csv_import.read_csv`) to `import_customer_rows` /
`import_attribute_rows`. They validate every row with the API's rules and
messages (`customers.ingest`), skipping the API's generic checks a CSV row
cannot fail (unknown keys, non-text values, nested attributes); then they
`COPY` the valid rows into a temporary staging table and write them with one
`INSERT … SELECT … ON CONFLICT DO UPDATE` — no Python-side parameter arrays,
one round trip per chunk for the data. Unknown customers of attribute rows are
found set-wise in SQL, by a join.

Same upsert rules as the API: customers by `lms_lead_id`, attributes by
(customer, `field_name`); an empty cell is an absent field and keeps the stored
value; a key repeated within a chunk is written once with the later rows'
present fields winning (counted as created once, then updated). The staging
tables are emptied before each chunk (and `ON COMMIT DELETE ROWS`), so they hold
one chunk even inside an outer transaction, and vanish with the session;
everything runs in the caller's transaction (one per chunk).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from customers.ingest import (
    CUSTOMER_FIELDS,
    FIELD_NAME_RE,
    MAX_JSON_VALUE_CHARS,
    MAX_LENGTHS,
    VALUE_CLEANERS,
    FieldType,
    IngestResult,
    Invalid,
    ItemError,
    clean_attribute,
    clean_customer_ref,
    clean_text,
    not_reserved,
)

CUSTOMER_COLUMNS = ("lms_lead_id", *CUSTOMER_FIELDS)
CUSTOMER_LIMITS = tuple((name, MAX_LENGTHS[name]) for name in CUSTOMER_COLUMNS)


# jit off: the row estimates for the staging table make the planner compile
# each chunk's statements (tens of ms a chunk) for no gain.
STAGE_CUSTOMERS = """
SET LOCAL jit = off;
CREATE TEMP TABLE IF NOT EXISTS import_stage_customers (
    lms_lead_id text, first_name text, last_name text, email text, mobile text
) ON COMMIT DELETE ROWS;
TRUNCATE import_stage_customers
"""

# EXCLUDED holds NULL exactly for the absent fields (a CSV cell is never an
# explicit null), so coalesce keeps their stored value.
UPSERT_STAGED_CUSTOMERS = """
WITH written AS (
    INSERT INTO customers AS c
        (lms_lead_id, first_name, last_name, email, mobile, created_date, updated_date)
    SELECT lms_lead_id, first_name, last_name, email, mobile, %(now)s, %(now)s
    FROM import_stage_customers
    ORDER BY lms_lead_id
    ON CONFLICT (lms_lead_id) DO UPDATE SET
        first_name = coalesce(EXCLUDED.first_name, c.first_name),
        last_name = coalesce(EXCLUDED.last_name, c.last_name),
        email = coalesce(EXCLUDED.email, c.email),
        mobile = coalesce(EXCLUDED.mobile, c.mobile),
        updated_date = EXCLUDED.updated_date
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) FROM written
"""

STAGE_ATTRIBUTES = """
SET LOCAL jit = off;
CREATE TEMP TABLE IF NOT EXISTS import_stage_attributes (
    item integer, lms_lead_id text, field_name text, field_type text, field_value text
) ON COMMIT DELETE ROWS;
TRUNCATE import_stage_attributes
"""

UNKNOWN_STAGED_CUSTOMERS = """
SELECT s.item, s.lms_lead_id FROM import_stage_attributes AS s
WHERE NOT EXISTS (
    SELECT FROM customers AS c
    WHERE c.lms_lead_id = s.lms_lead_id AND c.erased_at IS NULL OFFSET 0
)
"""

# DISTINCT ON keeps the last row of a (customer, field_name) named twice in the
# chunk; ON CONFLICT DO UPDATE may touch each row only once per statement.
# OFFSET 0 (here and in UNKNOWN_STAGED_CUSTOMERS) keeps the subquery from being
# flattened into a join: one index probe per staged row, whatever the planner
# guesses for a temporary table without statistics (it chose a hash join that
# reads all of customers: 0.4 s a chunk at 1M customers).
UPSERT_STAGED_ATTRIBUTES = """
WITH written AS (
    INSERT INTO customer_attributes AS a
        (customer_id, field_name, field_type, field_value, created_date, updated_date)
    SELECT DISTINCT ON (c.id, s.field_name)
           c.id, s.field_name, s.field_type, s.field_value::jsonb, %(now)s, %(now)s
    FROM import_stage_attributes AS s
    CROSS JOIN LATERAL (
        SELECT id FROM customers
        WHERE customers.lms_lead_id = s.lms_lead_id AND customers.erased_at IS NULL OFFSET 0
    ) AS c
    ORDER BY c.id, s.field_name, s.item DESC
    ON CONFLICT (customer_id, field_name) DO UPDATE SET
        field_type = EXCLUDED.field_type,
        field_value = EXCLUDED.field_value,
        updated_date = EXCLUDED.updated_date
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) FROM written
"""


# -- validating CSV rows --------------------------------------------------------


def _cell(value: str, name: str, limit: int, *, required: bool = False) -> str | None:
    """`clean_text` for cell text: the common case inline, anything odd through it."""
    text = value.strip()
    if not text or len(text) > limit or "\x00" in text:
        return clean_text(value, name, required=required)  # raises, or None for blank
    return text


def clean_customer_row(item: dict[str, str]) -> dict[str, str | None]:
    """`clean_customer` for a CSV row (known columns, cell text): same result, same errors."""
    lms_lead_id = item.get("lms_lead_id")
    if lms_lead_id is None:
        raise Invalid("lms_lead_id", "is required")
    lms_lead_id = _cell(lms_lead_id, "lms_lead_id", MAX_LENGTHS["lms_lead_id"], required=True)
    row = {"lms_lead_id": not_reserved(lms_lead_id)}
    for name, limit in CUSTOMER_LIMITS[1:]:
        value = item.get(name)
        if value is not None:
            row[name] = _cell(value, name, limit)
    return row


def clean_attribute_row(item: dict[str, str]) -> tuple[str, str, str, str]:
    """`clean_attribute_item` for a CSV row: (lms_lead_id, field_name, field_type, value
    as JSON text), with the same errors in the same order."""
    lms_lead_id = item.get("lms_lead_id")
    if lms_lead_id is not None:
        lms_lead_id = _cell(lms_lead_id, "lms_lead_id", MAX_LENGTHS["lms_lead_id"])
    if not lms_lead_id:
        clean_customer_ref(item)  # raises "lms_lead_id or customer_id is required"
    name, field_type, value = (
        item.get("field_name"),
        item.get("field_type"),
        item.get("field_value"),
    )
    if name is not None:
        name = _cell(name, "field_name", MAX_LENGTHS["field_name"], required=True)
    cleaner = VALUE_CLEANERS.get(field_type)
    if name is None or not FIELD_NAME_RE.match(name) or cleaner is None or value is None:
        clean_attribute(item)  # raises the API's error for the first bad field
    if field_type == FieldType.STRING and "\x00" not in value:
        text = json.dumps(value)
    else:
        text = json.dumps(cleaner(value, "field_value"))
    if len(text) > MAX_JSON_VALUE_CHARS:
        raise Invalid("field_value", f"is larger than {MAX_JSON_VALUE_CHARS} characters of JSON")
    return lms_lead_id, name, field_type, text


# -- the kinds' ingest functions --------------------------------------------------


@dataclass
class Prepared:
    """A chunk's rows checked without the database (a kind's `prepare`), for its `ingest`.

    The import reads and checks the next chunk in a thread while the database
    writes this one (`csv_import.read_ahead`), so this part must not query."""

    errors: list[ItemError] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)


def stage(cursor, setup: str, table: str, rows: list[tuple]) -> None:
    """(Re)create the chunk's empty staging table with `setup` and COPY `rows` into it."""
    cursor.execute(setup)
    with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def prepare_customer_rows(items: Sequence[dict[str, str]]) -> Prepared:
    """Check every row; one row per lms_lead_id, the later rows' present fields winning."""
    errors: list[ItemError] = []
    merged: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        try:
            row = clean_customer_row(item)
        except Invalid as invalid:
            errors.append(ItemError(index, invalid.field, invalid.message))
            continue
        if (earlier := merged.get(row["lms_lead_id"])) is not None:
            earlier.update(row)
        else:
            merged[row["lms_lead_id"]] = row
    rows = [tuple(row.get(name) for name in CUSTOMER_COLUMNS) for row in merged.values()]
    return Prepared(errors, rows)


def import_customer_rows(
    items: Sequence[dict[str, str]],
    *,
    now: datetime,
    skip_invalid: bool = True,
    prepared: Prepared | None = None,
) -> IngestResult:
    """Upsert a chunk of CSV customer rows (checked by `prepare_customer_rows` unless
    `prepared` is given); bad rows are returned as errors."""
    prepared = prepared if prepared is not None else prepare_customer_rows(items)
    result = IngestResult(errors=list(prepared.errors))
    if (result.errors and not skip_invalid) or not prepared.rows:
        return result
    with connection.cursor() as cursor:
        stage(cursor, STAGE_CUSTOMERS, "import_stage_customers", prepared.rows)
        cursor.execute(UPSERT_STAGED_CUSTOMERS, {"now": now})
        (result.created,) = cursor.fetchone()
    result.updated = len(items) - result.skipped - result.created
    return result


def prepare_attribute_rows(items: Sequence[dict[str, str]]) -> Prepared:
    """Check every row: (position, lms_lead_id, field_name, field_type, JSON value)."""
    errors: list[ItemError] = []
    rows: list[tuple] = []
    for index, item in enumerate(items):
        try:
            rows.append((index, *clean_attribute_row(item)))
        except Invalid as invalid:
            errors.append(ItemError(index, invalid.field, invalid.message))
    return Prepared(errors, rows)


def import_attribute_rows(
    items: Sequence[dict[str, str]],
    *,
    now: datetime,
    skip_invalid: bool = True,
    prepared: Prepared | None = None,
) -> IngestResult:
    """Upsert a chunk of CSV attribute rows (checked by `prepare_attribute_rows` unless
    `prepared` is given); bad rows and unknown customers are returned as errors."""
    prepared = prepared if prepared is not None else prepare_attribute_rows(items)
    result = IngestResult(errors=list(prepared.errors))
    if not prepared.rows:
        return result
    with connection.cursor() as cursor:
        stage(cursor, STAGE_ATTRIBUTES, "import_stage_attributes", prepared.rows)
        cursor.execute(UNKNOWN_STAGED_CUSTOMERS)
        result.errors += [
            ItemError(index, "lms_lead_id", f"no customer has lms_lead_id {lms_lead_id!r}")
            for index, lms_lead_id in cursor.fetchall()
        ]
        if result.errors and not skip_invalid:
            return result
        cursor.execute(UPSERT_STAGED_ATTRIBUTES, {"now": now})
        (result.created,) = cursor.fetchone()
    result.errors.sort(key=lambda error: error.index)
    result.updated = len(items) - result.skipped - result.created
    return result
