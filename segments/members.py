"""Uploading a manual segment's members from CSV (CONTRACT §5).

The file has one column named `customer_id`, `lms_lead_id` or `email` (the
first of these the header names is used). Lines stream through the shared CSV
reader into a temporary table with COPY, then one statement matches them to
customers, the list is changed set-wise (a replace writes only the difference)
and one query finds the unmatched lines: no ORM call per row, so 500,000 lines
take seconds. An email shared by several customers
adds them all. Replace and add both run in one transaction: a refused file
changes nothing.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from audit.recording import Action, record
from customers.csv_import import BadLine, CsvRefused, read_csv
from segments.models import CustomerSegment, MemberUpload

KEY_COLUMNS = ("customer_id", "lms_lead_id", "email")
UNMATCHED_KEPT = 1_000
MAX_ID = 2**63 - 1
MATCH = {
    "customer_id": "c.id = u.customer_id",
    "lms_lead_id": "c.lms_lead_id = u.value",
    "email": "lower(c.email) = lower(u.value)",
}


class UploadRefused(Exception):
    """The file as a whole cannot be used; nothing was changed."""


def upload_members(
    segment: CustomerSegment,
    file: BinaryIO,
    *,
    mode: str,
    user: AbstractBaseUser | None,
    now: datetime,
) -> MemberUpload:
    """Replace or add to the segment's list from `file`; unmatched lines are reported."""
    if segment.type != CustomerSegment.Type.MANUAL:
        raise UploadRefused("Only a manual segment has a member list to upload.")
    try:
        rows = read_csv(file, required_any_of=KEY_COLUMNS)
        key = key_column(rows.columns)
        with transaction.atomic():
            lines = load_lines(lines_of(rows, key))
            upload = write_members(segment, key=key, mode=mode, lines=lines)
            upload.file_name = getattr(file, "name", "") or "upload.csv"
            upload.uploaded_by = user if user and user.is_authenticated else None
            upload.created_date = now
            upload.save()
            record(segment, action=Action.UPLOAD, now=now, details=upload_details(upload))
    except CsvRefused as refused:
        raise UploadRefused(str(refused)) from None
    return upload


def upload_details(upload: MemberUpload) -> dict:
    """What the audit trail keeps of an upload: its file and counts, never its lines."""
    summary = (
        f"{upload.file_name}: {upload.get_mode_display().lower()} by {upload.key_column}, "
        f"{upload.lines:,} lines, {upload.added:,} added, {upload.unmatched_count:,} unmatched"
    )
    counts = {"lines": upload.lines, "added": upload.added, "unmatched": upload.unmatched_count}
    return {"summary": summary, "file": upload.file_name, "mode": upload.mode} | counts


def key_column(columns: Iterable[str]) -> str:
    present = set(columns)
    return next(name for name in KEY_COLUMNS if name in present)


def lines_of(rows: Iterable, key: str) -> Iterator[tuple[int, str, int | None]]:
    """(line, value, value as a customer id or None) for every data line."""
    for line_no, row in rows:
        if isinstance(row, BadLine):  # report it with its reason
            yield line_no, f"({row.message})", None
            continue
        value = (row.get(key) or "").strip()
        if not value:
            yield line_no, f"(no {key})", None
        else:
            yield line_no, value, as_id(value) if key == "customer_id" else None


def as_id(value: str) -> int | None:
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def load_lines(lines: Iterable[tuple[int, str, int | None]]) -> int:
    """COPY the lines into a temporary table (dropped at commit); returns how many."""
    count = 0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.segment_upload_lines")
        cursor.execute(
            "CREATE TEMP TABLE segment_upload_lines "
            "(line integer, value text, customer_id bigint) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY segment_upload_lines (line, value, customer_id) FROM STDIN"
        ) as copy:
            for line in lines:
                copy.write_row(line)
                count += 1
        cursor.execute("ANALYZE segment_upload_lines")
    return count


def write_members(segment: CustomerSegment, *, key: str, mode: str, lines: int) -> MemberUpload:
    """Match the loaded lines to customers and write the list set-wise.

    Replace writes only the difference: the rows of customers no longer named are
    deleted, those of customers newly named inserted; rows that stay are not
    touched. Each insert costs two foreign-key checks at commit, so re-uploading
    a 500,000-line list that changed by half writes half, and the same list
    nothing. `added` is the list's size after a replace, the newcomers after an add.
    """
    match = MATCH[key]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.segment_upload_matched")
        cursor.execute(
            "CREATE TEMP TABLE segment_upload_matched ON COMMIT DROP AS "
            "SELECT DISTINCT c.id AS customer_id FROM segment_upload_lines AS u "
            f"JOIN customers AS c ON {match}"
        )
        matched = cursor.rowcount
        cursor.execute("ANALYZE segment_upload_matched")
        if mode == MemberUpload.Mode.REPLACE:
            cursor.execute(
                "DELETE FROM customer_segment_customer_list AS l "
                "WHERE l.customer_segment_id = %s AND NOT EXISTS "
                "(SELECT FROM segment_upload_matched AS m WHERE m.customer_id = l.customer_id)",
                [segment.pk],
            )
        cursor.execute(
            "INSERT INTO customer_segment_customer_list (customer_segment_id, customer_id) "
            "SELECT %s, m.customer_id FROM segment_upload_matched AS m "
            "ON CONFLICT (customer_segment_id, customer_id) DO NOTHING",
            [segment.pk],
        )
        added = matched if mode == MemberUpload.Mode.REPLACE else cursor.rowcount
        # The unmatched lines in one pass: how many, and the first UNMATCHED_KEPT.
        cursor.execute(
            "WITH unmatched AS MATERIALIZED (SELECT line, value FROM segment_upload_lines AS u "
            f"WHERE NOT EXISTS (SELECT FROM customers AS c WHERE {match})) "
            "SELECT (SELECT count(*) FROM unmatched), "
            "(SELECT coalesce(json_agg(json_build_array(line, value) ORDER BY line), '[]') "
            f"FROM (SELECT line, value FROM unmatched ORDER BY line LIMIT {UNMATCHED_KEPT}) AS k)"
        )
        unmatched_count, kept = cursor.fetchone()
    return MemberUpload(
        segment=segment,
        mode=mode,
        key_column=key,
        lines=lines,
        added=added,
        unmatched_count=unmatched_count,
        unmatched=kept if isinstance(kept, list) else json.loads(kept),
    )
