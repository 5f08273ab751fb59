"""CSV files in (CONTRACT §5): the one path for the upload pages and `manage.py import_csv`.

Two layers.

**`read_csv(file, *, required=(), required_any_of=(), optional=())`** reads any CSV
upload (segment member lists use it too). `file` is an open binary file (or a
Django upload). It first checks in a fast streaming pass that the whole file is
UTF-8 (a BOM is fine), then reads the header: names are trimmed and matched
case-insensitively, unknown columns are ignored (and listed in
`rows.ignored_columns`). It returns `CsvRows`; iterate it for `(line_no, row)`:

    rows = read_csv(upload, required_any_of=("customer_id", "lms_lead_id", "email"))
    for line_no, row in rows:
        if isinstance(row, BadLine):  # wrong number of cells, line too long, bad quoting
            report(line_no, row.message)
        else:  # {column: cell text} for the known columns whose cell is not blank
            use(row)

`line_no` is the physical line where the record starts (a quoted cell may span
lines). Blank lines are skipped. Problems with the file as a whole (not UTF-8,
empty, a required column missing, a known column twice) raise `CsvRefused`,
whose message is written for the person who uploaded the file. Nothing is held
in memory beyond one line; a line over `MAX_LINE_CHARS` is skipped unread.

**`run_import(job, …)`** imports a file of one registered kind (`KINDS`;
`register_kind` lets other apps add theirs: funnel adds `events`) through the
kind's ingest function, in chunks of `CHUNK_ROWS` rows. Each chunk is one
transaction holding its rows, its bad lines (`ImportRowError`) and the job's
counters, so a job always says what is stored: every row up to `last_line`.
The next chunk is read and checked (the kind's `prepare`, no queries) in a
read-ahead thread while the current one is written on the one connection.
"""

import codecs
import csv
import io
import json
import logging
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from django.core.files import File
from django.db import connection, reset_queries, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from audit.recording import Action, record
from customers.csv_ingest import (
    import_attribute_rows,
    import_customer_rows,
    prepare_attribute_rows,
    prepare_customer_rows,
)
from customers.ingest import IngestResult
from customers.models import ImportJob

logger = logging.getLogger(__name__)

MAX_LINE_CHARS = 1_000_000
CHUNK_ROWS = 5_000
BLOCK_BYTES = 1 << 20
# Cells a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Status = ImportJob.Status


class CsvRefused(Exception):
    """The file as a whole cannot be imported; the message says why, for people."""


class BadLine(NamedTuple):
    """A line that could not be read as a row; `cells` when it could be split."""

    message: str
    cells: list[str] | None = None


# -- reading -------------------------------------------------------------------


def check_utf8(binary: BinaryIO) -> None:
    """Refuse a file that is not UTF-8 text, naming the line; then rewind it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while block := binary.read(BLOCK_BYTES):
        if b"\x00" in block:
            line += block[: block.index(b"\x00")].count(b"\n")
            raise CsvRefused(
                f"The file is not UTF-8 text: line {line} holds a NUL byte (is it UTF-16 "
                "or a spreadsheet file?). Save it as “CSV UTF-8” and upload it again."
            )
        try:
            decoder.decode(block)
        except UnicodeDecodeError as error:
            line += error.object[: error.start].count(b"\n")
            raise CsvRefused(
                f"The file is not UTF-8: line {line} holds the byte "
                f"0x{error.object[error.start]:02X}, which UTF-8 does not allow (is it "
                "Latin-1 or Windows-1252?). Save it as “CSV UTF-8” and upload it again."
            ) from None
        line += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise CsvRefused("The file is not UTF-8: it ends in the middle of a character.") from None
    binary.seek(0)


class _LineTooLong(Exception):
    pass


class _Lines:
    """The physical lines of a text stream, counted. A line longer than
    `MAX_LINE_CHARS` is read past and reported, never held whole in memory.
    (A class, not a generator: a generator that raises cannot go on.)"""

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.count = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_LINE_CHARS)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) == MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            while (rest := self.text.readline(MAX_LINE_CHARS)) and not rest.endswith(("\n", "\r")):
                pass
            raise _LineTooLong
        return line


class CsvRows:
    """The rows of a CSV file whose header has been checked; see the module doc."""

    def __init__(
        self, binary: BinaryIO, lines: _Lines, header: list[str], columns: dict[str, int]
    ) -> None:
        self._binary = binary
        self._lines = lines  # the header is read already; counting goes on from there
        self._reader = csv.reader(lines)
        self.header = header
        self.columns = columns
        self._positions = tuple(columns.items())
        self.ignored_columns = [
            name.strip() or f"column {position + 1} (no name)"
            for position, name in enumerate(header)
            if position not in columns.values()
        ]

    @property
    def lines_read(self) -> int:
        return self._lines.count

    @property
    def bytes_read(self) -> int:
        try:
            return self._binary.tell()
        except (OSError, ValueError):
            return 0

    def row(self, cells: list[str]) -> dict[str, str]:
        """The known columns whose cell is not blank (a blank cell means "absent")."""
        return {
            name: cell
            for name, position in self._positions
            if (cell := cells[position]) and not cell.isspace()
        }

    def records(self) -> Iterator[tuple[int, list[str] | BadLine]]:
        """`(line_no, cells)` per record, or a `BadLine`; blank lines left out."""
        width, lines = len(self.header), self._lines
        end = lines.count  # the last line of the previous record
        while True:
            try:
                for cells in self._reader:
                    start, end = end + 1, lines.count
                    if len(cells) == width:
                        yield start, cells
                    elif not is_blank(cells):
                        yield start, BadLine(wrong_width(len(cells), width), cells)
                return
            except _LineTooLong:
                yield end + 1, BadLine(f"the line is longer than {MAX_LINE_CHARS:,} characters")
            except csv.Error as error:
                yield end + 1, BadLine(csv_problem(error))
            end = lines.count

    def __iter__(self) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
        for line_no, cells in self.records():
            if isinstance(cells, BadLine):
                yield line_no, cells
                continue
            row = self.row(cells)
            if row or not is_blank(cells):
                yield line_no, row


def wrong_width(cells: int, width: int) -> str:
    return f"has {cells} cells but the header has {width} columns (a comma in a cell needs quotes)"


def csv_problem(error: csv.Error) -> str:
    if "field limit" in str(error):
        limit = csv.field_size_limit()
        return (
            f"a cell runs on for more than {limit:,} characters (a missing closing quote?); "
            "the lines it spans are skipped"
        )
    return f"the line is not valid CSV ({error})"


def is_blank(cells: list[str]) -> bool:
    return all(not cell or cell.isspace() for cell in cells)


def read_csv(
    file: BinaryIO | File,
    *,
    required: Iterable[str] = (),
    required_any_of: Iterable[str] = (),
    optional: Iterable[str] = (),
) -> CsvRows:
    """Check the file and its header; return its rows (see the module doc)."""
    binary = file.file if isinstance(file, File) else file
    binary.seek(0)
    check_utf8(binary)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    lines = _Lines(text)
    header = _read_header(csv.reader(lines))
    required, required_any_of = list(required), list(required_any_of)
    known = [*required, *required_any_of, *optional]
    columns = _match_columns(header, known)
    _check_required(header, columns, required, required_any_of)
    return CsvRows(binary, lines, header, columns)


def _read_header(reader: Iterator[list[str]]) -> list[str]:
    try:
        for cells in reader:
            if not is_blank(cells):
                return cells
    except _LineTooLong:
        raise CsvRefused(f"The header line is longer than {MAX_LINE_CHARS:,} characters.") from None
    except csv.Error as error:
        raise CsvRefused(f"The header line is not valid CSV ({error}).") from None
    raise CsvRefused("The file is empty: it needs a header row naming its columns.")


def _match_columns(header: list[str], known: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        name = name.strip().lower()
        if name not in known:
            continue
        if name in columns:
            raise CsvRefused(
                f"The column {name!r} appears twice (columns {columns[name] + 1} and "
                f"{position + 1}); keep one and upload the file again."
            )
        columns[name] = position
    return columns


def _check_required(
    header: list[str], columns: dict[str, int], required: list[str], required_any_of: list[str]
) -> None:
    found = ", ".join(repr(name) for name in header)
    found = found if len(found) <= 300 else found[:300] + "…"
    missing = [name for name in required if name not in columns]
    if missing:
        raise CsvRefused(
            f"The file lacks the required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; its header has {found}. Nothing was imported."
        )
    if required_any_of and not any(name in columns for name in required_any_of):
        raise CsvRefused(
            f"The file needs a column named {' or '.join(required_any_of)}; "
            f"its header has {found}. Nothing was imported."
        )


def escape_formula(cell: Any) -> str:
    """Text a spreadsheet shows as text: a leading ' before formula-looking cells."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_START) else text


# -- kinds ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImportKind:
    name: str
    label: str
    ingest: Callable[..., IngestResult]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # (column, what goes in it) for the form
    example: str = ""
    # Checks a chunk's items without the database, in the read-ahead thread; what it
    # returns reaches `ingest` as `prepared=`. None: `ingest` checks the items itself.
    prepare: Callable[[list[dict]], Any] | None = None


KINDS: dict[str, ImportKind] = {}


def register_kind(kind: ImportKind) -> None:
    KINDS[kind.name] = kind


register_kind(
    ImportKind(
        name="customers",
        label="Customers",
        ingest=import_customer_rows,
        prepare=prepare_customer_rows,
        required=("lms_lead_id",),
        optional=("first_name", "last_name", "email", "mobile"),
        columns=(
            ("lms_lead_id", "required: the customer's id in the LMS; existing ones are updated"),
            ("first_name", "optional"),
            ("last_name", "optional"),
            ("email", "optional"),
            ("mobile", "optional"),
        ),
        example="lms_lead_id,first_name,last_name,email,mobile\n"
        "LMS-1001,Asha,Verma,asha@example.com,+91 98765 43210\n",
    )
)
register_kind(
    ImportKind(
        name="attributes",
        label="Customer attributes",
        ingest=import_attribute_rows,
        prepare=prepare_attribute_rows,
        required=("lms_lead_id", "field_name", "field_type", "field_value"),
        columns=(
            ("lms_lead_id", "required: an existing customer"),
            ("field_name", "letters, digits, _ and -; starting with a letter or _"),
            ("field_type", "numeric, string, date, timestamp, boolean or array"),
            ("field_value", 'fits the type: 42, 2026-11-24, true, ["a","b"] (JSON) …'),
        ),
        example="lms_lead_id,field_name,field_type,field_value\n"
        "LMS-1001,city,string,Pune\n"
        'LMS-1001,courses,array,"[""python"",""sql""]"\n',
    )
)


# -- jobs ----------------------------------------------------------------------


def create_job(
    *,
    kind: str,
    filename: str,
    size: int,
    user: Any = None,
    stored_path: str = "",
    now: datetime | None = None,
) -> ImportJob:
    """A queued job for an uploaded file, and its "uploaded a file" audit entry."""
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            original_filename=Path(filename).name[:255],
            size=size,
            user=user if getattr(user, "is_authenticated", False) else None,
            stored_path=stored_path,
        )
        label = KINDS[kind].label if kind in KINDS else kind
        summary = f"{job.original_filename} ({label.lower()}, {filesizeformat(size)})"
        details = {"summary": summary, "kind": kind, "file": job.original_filename, "size": size}
        record(job, action=Action.UPLOAD, now=now or timezone.now(), details=details)
    return job


def claim_job(pk: int, *, now: datetime) -> ImportJob | None:
    """Mark a queued job running in this process; None when it is not queued."""
    claimed = ImportJob.objects.filter(pk=pk, status=Status.QUEUED).update(
        status=Status.RUNNING,
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=now,
        progress_at=now,
    )
    return ImportJob.objects.get(pk=pk) if claimed else None


def not_queued_reason(pk: int) -> str:
    status = ImportJob.objects.filter(pk=pk).values_list("status", flat=True).first()
    return f"is {status}, not queued" if status else "does not exist"


def stored_up_to(last_line: int) -> str:
    if last_line <= 1:
        return "No rows were stored."
    return f"Rows up to line {last_line} are stored; later lines were not imported."


# -- importing -----------------------------------------------------------------


ProgressCallback = Callable[[ImportJob, list[tuple]], None]


def run_import(
    job: ImportJob,
    *,
    file: BinaryIO | File | None = None,
    now: datetime,
    chunk_rows: int = CHUNK_ROWS,
    on_chunk: ProgressCallback | None = None,
    delete_file: bool = False,
) -> ImportJob:
    """Import a claimed job's file (`file`, or the one at `job.stored_path`).

    `on_chunk(job, bad_lines)` is called after each committed chunk with the
    chunk's bad lines as `(line, field, message, cells)`. Never raises for a bad
    file: the job ends done, refused (nothing stored) or failed (see message).
    """
    try:
        with _JobFile(job, file) as binary:
            kind = KINDS[job.kind]
            rows = read_csv(binary, required=kind.required, optional=kind.optional)
            job.header, job.ignored_columns = rows.header, rows.ignored_columns
            job.save(update_fields=["header", "ignored_columns"])
            # The next chunk is read and checked in a thread while this one is written.
            with closing(read_ahead(_read_chunks(kind, rows, chunk_rows))) as chunks:
                for chunk in chunks:
                    bad = _write_chunk(job, kind, chunk, now=now)
                    reset_queries()  # with DEBUG on, Django keeps every (huge) query: memory
                    if on_chunk:
                        on_chunk(job, bad)
    except CsvRefused as refused:
        return _finish(job, Status.REFUSED, str(refused), delete_file=delete_file)
    except Exception as error:  # noqa: BLE001 - the job must end with a reason, not hang
        logger.exception("Import %s failed", job.pk)
        _reload_counters(job)
        reason = f"The import stopped at line {job.last_line + 1}: {' '.join(str(error).split())}."
        return _finish(
            job, Status.FAILED, f"{reason} {stored_up_to(job.last_line)}", delete_file=delete_file
        )
    return _finish(job, Status.DONE, _summary(job), delete_file=delete_file)


class _JobFile:
    """The job's file: the given one (left open) or the stored one (closed after)."""

    def __init__(self, job: ImportJob, file: BinaryIO | File | None) -> None:
        self.job, self.file, self.opened = job, file, None

    def __enter__(self) -> BinaryIO | File:
        if self.file is not None:
            return self.file
        try:
            self.opened = open(self.job.stored_path, "rb")  # noqa: SIM115 - closed in __exit__
        except OSError as error:
            raise CsvRefused(f"The uploaded file cannot be read: {error.strerror}.") from None
        return self.opened

    def __exit__(self, *exc: object) -> None:
        if self.opened:
            self.opened.close()


def _chunks(records: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(records, size)):
        yield chunk


def read_ahead(source: Iterator, depth: int = 1) -> Iterator:
    """Iterate `source` in a thread, at most `depth` items ahead of the caller.

    For pure-Python work (parsing, checking) that can run while the caller waits
    on the database (psycopg releases the GIL while it waits). An exception in
    `source` is raised to the caller at the item where it happened; closing this
    generator stops the thread (it finishes the item it is on).
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not put((True, item)):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            put((False, error))
            return
        put((False, None))

    worker = threading.Thread(target=work, name="import-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            is_item, value = handoff.get()
            if is_item:
                yield value
            elif value is None:
                return
            else:
                raise value
    finally:
        stop.set()
        worker.join()


@dataclass
class ReadChunk:
    """One chunk as read from the file: its rows, unreadable lines and position."""

    lines: list[int]  # the line of each item
    cells: list[list[str]]  # the cells of each item, for the bad-lines report
    items: list[dict]
    bad: list[tuple]  # (line, field, message, cells) of unreadable lines
    lines_read: int
    bytes_read: int
    prepared: Any = None


def _read_chunks(kind: ImportKind, rows: CsvRows, chunk_rows: int) -> Iterator[ReadChunk]:
    for chunk in _chunks(rows.records(), chunk_rows):
        yield read_chunk(kind, rows, chunk)


def read_chunk(kind: ImportKind, rows: CsvRows, chunk: list) -> ReadChunk:
    """Sort a chunk's records into items and unreadable lines; no database."""
    read = ReadChunk([], [], [], [], rows.lines_read, rows.bytes_read)
    for line_no, cells in chunk:
        if isinstance(cells, BadLine):
            read.bad.append((line_no, "", cells.message, cells.cells))
            continue
        item = rows.row(cells)
        if item or not is_blank(cells):
            read.lines.append(line_no)
            read.cells.append(cells)
            read.items.append(item)
    if kind.prepare and read.items:
        read.prepared = kind.prepare(read.items)
    return read


def _write_chunk(
    job: ImportJob, kind: ImportKind, read: ReadChunk, *, now: datetime
) -> list[tuple]:
    """Store one chunk of records, its bad lines and the job's counters in one transaction."""
    bad, items = list(read.bad), read.items
    unreadable = len(bad)
    with transaction.atomic():
        prepared = {} if read.prepared is None else {"prepared": read.prepared}
        result = (
            kind.ingest(items, now=now, skip_invalid=True, **prepared) if items else IngestResult()
        )
        bad += [
            (read.lines[e.index], e.field, e.message, read.cells[e.index]) for e in result.errors
        ]
        bad.sort(key=lambda error: error[0])
        _insert_row_errors(job, bad)
        job.rows_processed += len(items) + unreadable
        job.created += result.created
        job.updated += len(items) - result.skipped - result.created
        job.skipped += len({error[0] for error in bad})
        job.last_line, job.bytes_processed = read.lines_read, read.bytes_read
        job.progress_at = timezone.now()
        job.save(update_fields=PROGRESS_FIELDS)
    return bad


PROGRESS_FIELDS = [
    "rows_processed",
    "created",
    "updated",
    "skipped",
    "last_line",
    "bytes_processed",
    "progress_at",
]

INSERT_ROW_ERRORS = """
INSERT INTO import_row_errors (job_id, line, field, message, cells)
SELECT %(job)s, t.line, t.field, t.message, t.cells::jsonb
FROM unnest(%(line)s::bigint[], %(field)s::text[], %(message)s::text[], %(cells)s::text[])
     AS t(line, field, message, cells)
"""


def _insert_row_errors(job: ImportJob, bad: list[tuple]) -> None:
    if not bad:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_ROW_ERRORS,
            {
                "job": job.pk,
                "line": [error[0] for error in bad],
                "field": [error[1] for error in bad],
                "message": [error[2] for error in bad],
                "cells": [None if error[3] is None else json.dumps(error[3]) for error in bad],
            },
        )


def _reload_counters(job: ImportJob) -> None:
    """After a failed chunk the job in memory may be ahead of what was committed."""
    try:
        job.refresh_from_db(fields=PROGRESS_FIELDS)
    except Exception:  # noqa: BLE001 - the database may be what failed; keep what we have
        logger.warning("Could not reload import %s", job.pk)


def _summary(job: ImportJob) -> str:
    if not job.rows_processed:
        return "The file has a header but no rows."
    return ""


def _finish(job: ImportJob, status: str, message: str, *, delete_file: bool) -> ImportJob:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])
    if delete_file and job.stored_path:
        Path(job.stored_path).unlink(missing_ok=True)
    return job
