import io
import os
import subprocess
import sys

import dj_database_url
import pytest
from django.db import connection

from customers import csv_import
from customers.csv_import import (
    BadLine,
    CsvRefused,
    claim_job,
    create_job,
    read_csv,
    run_import,
)
from customers.import_jobs import bad_lines_csv, mark_dead_jobs
from customers.models import Customer, CustomerAttribute, ImportJob
from funnel.models import FunnelEvent
from marketing_os.background import database_url
from tests.factories import make_customer

Status = ImportJob.Status


def csv_file(text: str | bytes) -> io.BytesIO:
    return io.BytesIO(text.encode() if isinstance(text, str) else text)


def rows_of(text: str | bytes, **columns) -> list:
    return list(read_csv(csv_file(text), **columns))


def run(kind: str, text: str | bytes, *, now, chunk_rows: int = 5_000, **kwargs) -> ImportJob:
    job = create_job(kind=kind, filename=f"{kind}.csv", size=len(text))
    job = claim_job(job.pk, now=now)
    return run_import(job, file=csv_file(text), now=now, chunk_rows=chunk_rows, **kwargs)


def bad_lines(job: ImportJob) -> list[tuple]:
    return list(job.row_errors.order_by("line").values_list("line", "field", "message"))


# -- read_csv ------------------------------------------------------------------


def test_it_gives_each_row_the_line_where_its_record_starts_across_quoted_newlines():
    text = 'email,lms_lead_id\r\n"a@x.com","L-1"\r\n"two\r\nlines, and ""quotes""",L-2\r\nc,L-3\r\n'

    rows = rows_of(text, required=["lms_lead_id"], optional=["email"])

    assert rows == [
        (2, {"email": "a@x.com", "lms_lead_id": "L-1"}),
        (3, {"email": 'two\r\nlines, and "quotes"', "lms_lead_id": "L-2"}),
        (5, {"email": "c", "lms_lead_id": "L-3"}),
    ]


def test_it_drops_a_utf8_bom_before_the_first_column_name():
    rows = rows_of("\ufefflms_lead_id\nL-1\n", required=["lms_lead_id"])

    assert rows == [(2, {"lms_lead_id": "L-1"})]


def test_it_matches_column_names_trimmed_and_in_any_case_and_lists_unknown_ones():
    rows = read_csv(
        csv_file(" Email ,LMS_Lead_ID,notes,\nx@y.z,L-1,hi,\n"),
        required=["lms_lead_id"],
        optional=["email"],
    )

    assert list(rows) == [(2, {"email": "x@y.z", "lms_lead_id": "L-1"})]
    assert rows.ignored_columns == ["notes", "column 4 (no name)"]


def test_unknown_columns_may_repeat_since_they_are_ignored_anyway():
    rows = read_csv(csv_file("notes,lms_lead_id,notes\na,L-1,b\n"), required=["lms_lead_id"])

    assert list(rows) == [(2, {"lms_lead_id": "L-1"})]
    assert rows.ignored_columns == ["notes", "notes"]


def test_it_leaves_blank_cells_out_and_skips_blank_lines():
    rows = rows_of(
        "lms_lead_id,email\nL-1,  \n\n , \nL-2,b@x.com\n",
        required=["lms_lead_id"],
        optional=["email"],
    )

    assert rows == [(2, {"lms_lead_id": "L-1"}), (5, {"lms_lead_id": "L-2", "email": "b@x.com"})]


def test_it_reports_a_line_with_the_wrong_number_of_cells_and_goes_on():
    rows = rows_of(
        "lms_lead_id,email\nL-1,Sharma, Priya\nL-2,b@x.com\n",
        required=["lms_lead_id"],
        optional=["email"],
    )

    assert rows[0][0] == 2 and isinstance(rows[0][1], BadLine)
    assert "3 cells but the header has 2 columns" in rows[0][1].message
    assert rows[0][1].cells == ["L-1", "Sharma", " Priya"]
    assert rows[1] == (3, {"lms_lead_id": "L-2", "email": "b@x.com"})


def test_it_skips_a_very_long_line_without_reading_it_whole(monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_LINE_CHARS", 50)
    text = "lms_lead_id\nL-1\n" + "x" * 500 + "\nL-2\n"

    rows = rows_of(text, required=["lms_lead_id"])

    assert [line for line, _ in rows] == [2, 3, 4]
    assert rows[1][1] == BadLine("the line is longer than 50 characters")
    assert rows[2] == (4, {"lms_lead_id": "L-2"})


def test_a_missing_closing_quote_is_reported_at_the_line_where_it_starts():
    text = 'lms_lead_id,first_name\nL-1,"Asha\n' + "L-2,Ravi\n" * 20_000 + "L-3,Meera\n"

    rows = rows_of(text, required=["lms_lead_id"], optional=["first_name"])

    assert rows[0][0] == 2
    assert rows[0][1].message.startswith("a cell runs on for more than 131,072 characters")
    # Reading goes on after the runaway cell, with the right line numbers.
    assert all(isinstance(row, dict) for _, row in rows[1:])
    assert rows[-1] == (20_003, {"lms_lead_id": "L-3", "first_name": "Meera"})


def test_it_offers_one_of_several_columns_to_callers_like_segment_member_lists():
    rows = rows_of("email\na@x.com\n", required_any_of=["customer_id", "lms_lead_id", "email"])

    assert rows == [(2, {"email": "a@x.com"})]
    with pytest.raises(
        CsvRefused, match="needs a column named customer_id or lms_lead_id or email"
    ):
        read_csv(csv_file("name\nAsha\n"), required_any_of=["customer_id", "lms_lead_id", "email"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "The file is empty"),
        (
            b"first_name\nAsha\n",
            "lacks the required column lms_lead_id; its header has 'first_name'",
        ),
        (b"lms_lead_id,email,EMAIL\nL-1,a,b\n", "'email' appears twice (columns 2 and 3)"),
        (b"lms_lead_id\nL-1\nRen\xe9\n", "not UTF-8: line 3 holds the byte 0xE9"),
        ("lms_lead_id\nL-1\n".encode("utf-16"), "The file is not UTF-8"),
        (b"lms_lead_id\nL-1\n\xc3", "ends in the middle of a character"),
    ],
)
def test_it_refuses_a_file_it_cannot_read_as_a_whole_with_a_clear_message(content, message):
    with pytest.raises(CsvRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_csv(csv_file(content), required=["lms_lead_id"], optional=["email"])


def test_it_finds_utf8_characters_split_across_read_blocks(monkeypatch):
    monkeypatch.setattr(csv_import, "BLOCK_BYTES", 3)
    text = "lms_lead_id,first_name\nL-1,Zoë Ünal 日本\n"

    assert rows_of(text, required=["lms_lead_id"], optional=["first_name"]) == [
        (2, {"lms_lead_id": "L-1", "first_name": "Zoë Ünal 日本"})
    ]


# -- run_import ------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db  # the reader tests above need no database


@pytestmark_db
def test_it_imports_customers_and_counts_created_updated_and_skipped(now):
    make_customer(lms_lead_id="L-1", first_name="Old", email="keep@x.com")
    text = "lms_lead_id,first_name,email\nL-1,Asha,\nL-2,Ravi,r@x.com\n,No Id,n@x.com\n"

    job = run("customers", text, now=now)

    assert (job.status, job.created, job.updated, job.skipped) == (Status.DONE, 1, 1, 1)
    assert job.rows_processed == 3 and job.last_line == 4
    assert bad_lines(job) == [(4, "lms_lead_id", "is required")]
    updated = Customer.objects.get(lms_lead_id="L-1")
    assert (updated.first_name, updated.email) == ("Asha", "keep@x.com")


@pytestmark_db
def test_it_refuses_a_file_missing_a_column_and_stores_nothing(now):
    make_customer(lms_lead_id="L-1")

    job = run("attributes", "lms_lead_id,field_name,field_value\nL-1,city,Pune\n", now=now)

    assert job.status == Status.REFUSED
    assert "lacks the required column field_type" in job.message
    assert not CustomerAttribute.objects.exists() and not job.row_errors.exists()


@pytestmark_db
def test_it_skips_values_of_the_wrong_type_and_unknown_customers_naming_line_and_field(now):
    make_customer(lms_lead_id="L-1")
    text = (
        "lms_lead_id,field_name,field_type,field_value\n"
        "L-1,age,numeric,forty\n"
        "L-1,age,numeric,40\n"
        "L-1,born,date,24/11/2000\n"
        "L-1,tags,array,not json\n"
        "L-1,vip,colour,red\n"
        "L-404,age,numeric,3\n"
        'L-1,tags,array,"[""a"",""b""]"\n'
    )

    job = run("attributes", text, now=now)

    assert [(line, field) for line, field, _ in bad_lines(job)] == [
        (2, "field_value"),
        (4, "field_value"),
        (5, "field_value"),
        (6, "field_type"),
        (7, "lms_lead_id"),
    ]
    assert "no customer has lms_lead_id 'L-404'" in bad_lines(job)[-1][2]
    stored = dict(CustomerAttribute.objects.values_list("field_name", "field_value"))
    assert stored == {"age": 40, "tags": ["a", "b"]}
    assert (job.created, job.updated, job.skipped) == (2, 0, 5)


@pytestmark_db
def test_it_stores_formula_looking_cells_as_plain_text(now):
    run("customers", 'lms_lead_id,first_name\nL-1,"=HYPERLINK(""http://evil"")"\n', now=now)

    assert Customer.objects.get().first_name == '=HYPERLINK("http://evil")'


@pytestmark_db
def test_it_ignores_unknown_columns_and_says_which(now):
    job = run("customers", "lms_lead_id,favourite_colour\nL-1,blue\n", now=now)

    assert (job.status, job.created) == (Status.DONE, 1)
    assert job.ignored_columns == ["favourite_colour"]


@pytestmark_db
def test_a_header_only_file_is_done_with_nothing_to_import(now):
    job = run("customers", "\ufefflms_lead_id,email\r\n", now=now)

    assert (job.status, job.rows_processed) == (Status.DONE, 0)
    assert job.message == "The file has a header but no rows."


@pytestmark_db
def test_a_file_that_is_not_utf8_is_refused_before_anything_is_stored(now):
    text = b"lms_lead_id,first_name\nL-1,Asha\n" + b"L-2,Ren\xe9\n"

    job = run("customers", text, now=now, chunk_rows=1)

    assert job.status == Status.REFUSED and "line 3" in job.message
    assert not Customer.objects.exists()


@pytestmark_db
def test_a_name_repeated_in_a_file_counts_as_an_update_so_counts_add_up(now):
    make_customer(lms_lead_id="L-1")
    text = "lms_lead_id,field_name,field_type,field_value\nL-1,a,string,x\nL-1,a,string,y\n"

    job = run("attributes", text, now=now)

    assert (job.created, job.updated, job.skipped) == (1, 1, 0)
    assert CustomerAttribute.objects.get().field_value == "y"


@pytestmark_db
def test_it_imports_funnel_events_through_the_kind_funnel_registers(now):
    customer = make_customer(lms_lead_id="L-1")
    text = (
        "lms_lead_id,funnel_type,from_stage,to_stage,created_date\n"
        "L-1,sales,,lead,2026-11-20T10:00:00Z\n"
        "L-1,sales,lead,contacted,\n"
        "L-1,marketing,lead,won,\n"
        "L-1,sales,lead,won,yesterday\n"
    )

    job = run("events", text, now=now)

    events = FunnelEvent.objects.filter(customer=customer).order_by("id")
    assert [(e.from_stage, e.to_stage) for e in events] == [(None, "lead"), ("lead", "contacted")]
    assert events[1].created_date == now
    assert [(line, field) for line, field, _ in bad_lines(job)] == [
        (4, "funnel_type"),
        (5, "created_date"),
    ]


@pytestmark_db
def test_rows_of_chunks_committed_before_a_failure_stay_and_the_job_says_up_to_which_line(
    now, monkeypatch
):
    real_ingest = csv_import.KINDS["customers"].ingest
    calls = []

    def ingest_then_break(items, **kwargs):
        calls.append(len(items))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_ingest(items, **kwargs)

    kind = csv_import.KINDS["customers"]
    monkeypatch.setitem(
        csv_import.KINDS,
        "customers",
        csv_import.ImportKind(**{**kind.__dict__, "ingest": ingest_then_break}),
    )

    job = run("customers", "lms_lead_id\nL-1\nL-2\nL-3\nL-4\n", now=now, chunk_rows=2)

    assert job.status == Status.FAILED
    assert "stopped at line 4: database went away" in job.message
    assert "Rows up to line 3 are stored" in job.message
    assert sorted(Customer.objects.values_list("lms_lead_id", flat=True)) == ["L-1", "L-2"]
    assert (job.created, job.rows_processed) == (2, 2)


@pytestmark_db
def test_it_reports_progress_after_every_chunk(now):
    seen = []

    run(
        "customers",
        "lms_lead_id\nL-1\nL-2\n\nL-3\n",
        now=now,
        chunk_rows=2,
        on_chunk=lambda job, bad: seen.append((job.rows_processed, job.last_line)),
    )

    assert seen == [(2, 3), (3, 5)]


@pytestmark_db
def test_the_bad_lines_csv_escapes_formulas_and_keeps_the_original_columns(now):
    text = 'lms_lead_id,First Name,=cmd\n,"=SUM(A1)",@x\n,"a,b",+1\n'
    job = run("customers", text, now=now)

    download = "".join(bad_lines_csv(job))

    assert download == (
        "\ufeffline,reason,lms_lead_id,First Name,'=cmd\r\n"
        "2,lms_lead_id: is required,,'=SUM(A1),'@x\r\n"
        '3,lms_lead_id: is required,,"a,b",\'+1\r\n'
    )


# -- jobs and processes -------------------------------------------------------------


@pytestmark_db
def test_a_running_job_whose_process_is_gone_is_marked_failed(now):
    dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_pid.wait()
    dead = claim_job(create_job(kind="customers", filename="a.csv", size=1).pk, now=now)
    alive = claim_job(create_job(kind="customers", filename="b.csv", size=1).pk, now=now)
    ImportJob.objects.filter(pk=dead.pk).update(pid=dead_pid.pid, last_line=40)

    assert mark_dead_jobs(now=now) == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == Status.FAILED
    assert "stopped unexpectedly. Rows up to line 40 are stored" in dead.message
    assert alive.status == Status.RUNNING and alive.pid == os.getpid()


def test_the_database_url_for_child_processes_names_the_same_database():
    db = {
        "NAME": "test_mos",
        "USER": "post gres",
        "PASSWORD": "p@ss:/word",
        "HOST": "/tmp/a socket dir",
        "PORT": "",
        "OPTIONS": {"sslmode": "prefer"},
    }

    parsed = dj_database_url.parse(database_url(db))

    assert {k: parsed[k] for k in ("NAME", "USER", "PASSWORD", "HOST")} == {
        k: db[k] for k in ("NAME", "USER", "PASSWORD", "HOST")
    }
    assert parsed["OPTIONS"] == {"sslmode": "prefer"}


@pytestmark_db
def test_it_does_not_pile_up_logged_queries_when_debug_is_on(now, settings):
    settings.DEBUG = True  # Django then logs every query: a million-row import would grow
    run(
        "customers", "lms_lead_id\n" + "".join(f"L-{n}\n" for n in range(10)), now=now, chunk_rows=2
    )

    assert len(connection.queries) <= 3
