"""The CSV import's set-wise writers (`customers/csv_ingest.py`): the same results and
messages as the API's validators, and the upsert rules across and within chunks."""

import json
import threading
from contextlib import closing

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from customers import csv_import
from customers.csv_import import claim_job, create_job, read_ahead, run_import
from customers.csv_ingest import clean_attribute_row, clean_customer_row
from customers.ingest import Invalid, clean_attribute_item, clean_customer
from customers.models import Customer, CustomerAttribute, ImportJob
from tests.customers.test_csv_import import bad_lines, csv_file
from tests.factories import make_customer

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Status = ImportJob.Status

# What `read_csv` hands over: known columns only, each a cell that is not blank.
cells = st.text(min_size=1, max_size=12).filter(lambda cell: not cell.isspace()) | st.sampled_from(
    [
        " x ",
        "a" * 256,
        "b" * 101,
        "x\x00y",
        "  Pune",
        "42",
        " 4.5 ",
        "1e400",
        "true",
        "no",
        "2026-11-24",
        "2026-02-30",
        '["a", 1]',
        "[1e400]",
        "2026-11-24T10:00:00",
        "city",
        "9x",
    ]
)
field_types = st.sampled_from(
    ["numeric", "string", "date", "timestamp", "boolean", "array", "String", " string", "text"]
)


def outcome(clean, item):
    try:
        return clean(item)
    except Invalid as invalid:
        return ("Invalid", invalid.field, invalid.message)


@FAST
@example(item={"lms_lead_id": " L-1 ", "email": "a" * 321})
@example(item={"first_name": "Asha"})
@given(
    item=st.dictionaries(
        st.sampled_from(["lms_lead_id", "first_name", "last_name", "email", "mobile"]), cells
    )
)
def test_a_customer_row_is_cleaned_exactly_as_the_api_cleans_the_same_item(item):
    expected = outcome(clean_customer, item)
    if isinstance(expected, dict):
        expected.pop("attributes")

    assert outcome(clean_customer_row, item) == expected


@FAST
@example(item={"lms_lead_id": "L-1", "field_name": "9x", "field_type": "text"})
@example(
    item={"lms_lead_id": "L-1", "field_name": "c", "field_type": "string", "field_value": "x\x00"}
)
@given(
    item=st.fixed_dictionaries(
        {},
        optional={
            "lms_lead_id": cells,
            "field_name": cells | st.sampled_from(["city", "_a-1", "Budget"]),
            "field_type": field_types,
            "field_value": cells,
        },
    )
)
def test_an_attribute_row_is_cleaned_exactly_as_the_api_cleans_the_same_item(item):
    expected = outcome(clean_attribute_item, item)
    if isinstance(expected, dict):
        expected = (
            expected["lms_lead_id"],
            expected["field_name"],
            expected["field_type"],
            json.dumps(expected["field_value"]),
        )

    assert outcome(clean_attribute_row, item) == expected


def run(kind: str, text: str, *, now, chunk_rows: int) -> ImportJob:
    job = claim_job(create_job(kind=kind, filename=f"{kind}.csv", size=len(text)).pk, now=now)
    return run_import(job, file=csv_file(text), now=now, chunk_rows=chunk_rows)


@pytest.mark.django_db
@pytest.mark.parametrize("chunk_rows", [1, 2, 5_000], ids=["chunk-1", "chunk-2", "one-chunk"])
def test_a_customer_named_twice_gets_the_later_cells_and_keeps_fields_the_later_line_leaves_empty(
    now, chunk_rows
):
    make_customer(lms_lead_id="L-0", first_name="Old", email="old@x.in", mobile="+91 1")
    text = (
        "lms_lead_id,first_name,last_name,email,mobile\n"
        "L-1,Asha,Verma,asha@x.in,\n"
        "L-0,,Nair,,+91 2\n"
        "L-1,Ashaa,,,+91 3\n"
    )

    job = run("customers", text, now=now, chunk_rows=chunk_rows)

    rows = Customer.objects.order_by("lms_lead_id").values_list(
        "lms_lead_id", "first_name", "last_name", "email", "mobile"
    )
    assert list(rows) == [
        ("L-0", "Old", "Nair", "old@x.in", "+91 2"),
        ("L-1", "Ashaa", "Verma", "asha@x.in", "+91 3"),
    ]
    assert (job.status, job.created, job.updated, job.skipped) == (Status.DONE, 1, 2, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("chunk_rows", [1, 3, 5_000], ids=["chunk-1", "chunk-3", "one-chunk"])
def test_attributes_named_twice_keep_the_later_value_and_every_unknown_line_is_reported(
    now, chunk_rows
):
    customer = make_customer(lms_lead_id="L-1")
    text = (
        "lms_lead_id,field_name,field_type,field_value\n"
        "L-1,city,string,Pune\n"
        "L-404,city,string,Goa\n"
        "L-1,budget,numeric,100\n"
        "L-1,city,string,Mumbai\n"
        "L-404,city,string,Goa\n"
        "L-1,budget,numeric,x\n"
    )

    job = run("attributes", text, now=now, chunk_rows=chunk_rows)

    stored = dict(customer.attributes.values_list("field_name", "field_value"))
    assert stored == {"city": "Mumbai", "budget": 100}
    assert bad_lines(job) == [
        (3, "lms_lead_id", "no customer has lms_lead_id 'L-404'"),
        (6, "lms_lead_id", "no customer has lms_lead_id 'L-404'"),
        (7, "field_value", "'x' is not a number"),
    ]
    assert (job.created, job.updated, job.skipped) == (2, 1, 3)
    assert CustomerAttribute.objects.count() == 2


# -- reading ahead ---------------------------------------------------------------


def test_read_ahead_gives_every_item_in_order_and_raises_the_sources_error_where_it_happened():
    def source():
        yield from range(5)
        raise ValueError("line 6 is unreadable")

    seen = []
    with pytest.raises(ValueError, match="line 6"):
        for item in read_ahead(source()):
            seen.append(item)

    assert seen == [0, 1, 2, 3, 4]


def test_closing_read_ahead_stops_its_thread_without_reading_the_whole_source():
    produced = []

    def source():
        for number in range(1_000):
            produced.append(number)
            yield number

    with closing(read_ahead(source())) as items:
        assert next(items) == 0

    assert not [t for t in threading.enumerate() if t.name == "import-read-ahead"]
    assert len(produced) <= 3  # the one taken, one waiting in the hand-off, one being made


@pytest.mark.django_db
def test_a_failing_chunk_stops_the_import_and_rows_read_ahead_are_not_stored(now, monkeypatch):
    real = csv_import.KINDS["customers"]
    calls = []

    def ingest_then_break(items, **kwargs):
        calls.append(len(items))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real.ingest(items, **kwargs)

    monkeypatch.setitem(
        csv_import.KINDS,
        "customers",
        csv_import.ImportKind(**{**real.__dict__, "ingest": ingest_then_break}),
    )
    text = "lms_lead_id\n" + "".join(f"L-{n}\n" for n in range(1, 11))

    job = run("customers", text, now=now, chunk_rows=3)

    assert job.status == Status.FAILED and "Rows up to line 4 are stored" in job.message
    assert sorted(Customer.objects.values_list("lms_lead_id", flat=True)) == ["L-1", "L-2", "L-3"]
    assert calls == [3, 3]
    assert not [t for t in threading.enumerate() if t.name == "import-read-ahead"]
