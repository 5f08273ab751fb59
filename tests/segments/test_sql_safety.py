"""Each refusal is its own test, and asserts nothing in the database changed.

The parser refuses these before they reach PostgreSQL; the second half of the
file bypasses the parser and shows the database layers hold on their own.
"""

import re
import time

import pytest
from django.db import connection

from segments.evaluation import SegmentError, check_segment_sql, preview_segment_sql
from segments.sandbox import QueryFailed, is_role_active, sandbox
from tests.factories import make_customers, make_event

pytestmark = pytest.mark.django_db

TABLES = ["customers", "customer_attributes", "funnel_events", "customer_segments"]


@pytest.fixture
def data():
    for customer in make_customers(3):
        make_event(customer)


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT current_user, current_setting('statement_timeout')")
        counts["session"] = cursor.fetchone()
        return counts


def assert_refused(sql: str, reason: str) -> None:
    before = row_counts()
    problem = check_segment_sql(sql)
    assert problem is not None and reason in problem.message
    with pytest.raises(SegmentError, match=re.escape(reason)):
        preview_segment_sql(sql)
    assert row_counts() == before


def test_it_refuses_a_delete_hidden_in_a_cte(data):
    assert_refused(
        "WITH d AS (DELETE FROM customers RETURNING id) SELECT id FROM d",
        "Data-modifying statements",
    )


def test_it_refuses_an_update_hidden_in_a_cte(data):
    assert_refused(
        "WITH u AS (UPDATE customers SET email = NULL RETURNING id) SELECT id FROM u",
        "Data-modifying statements",
    )


def test_it_refuses_an_insert_hidden_in_a_cte(data):
    assert_refused(
        "WITH i AS (INSERT INTO customers (lms_lead_id) VALUES ('x') RETURNING id) "
        "SELECT id FROM i",
        "Data-modifying statements",
    )


def test_it_refuses_a_second_statement(data):
    assert_refused("SELECT 1; DROP TABLE customers", "exactly one SELECT statement")


def test_it_refuses_a_plain_delete(data):
    assert_refused("DELETE FROM customers", "not DELETE")


def test_it_refuses_ddl(data):
    assert_refused("DROP TABLE customers", "not DROP")


def test_it_refuses_copy(data):
    assert_refused("COPY customers TO STDOUT", "not COPY")


def test_it_refuses_set(data):
    assert_refused("SET statement_timeout = 0", "not SET")


def test_it_refuses_transaction_control(data):
    assert_refused("COMMIT", "not transaction control")


def test_it_refuses_select_into(data):
    assert_refused("SELECT id INTO stolen FROM customers", "SELECT … INTO")


def test_it_refuses_for_update(data):
    assert_refused("SELECT id FROM customers FOR UPDATE", "FOR UPDATE")


def test_it_refuses_for_share_in_a_subquery(data):
    assert_refused(
        "SELECT id FROM (SELECT id FROM customers FOR SHARE) AS s", "FOR UPDATE / FOR SHARE"
    )


def test_it_refuses_pg_sleep(data):
    assert_refused("SELECT pg_sleep(60)", "pg_sleep() is not allowed")


def test_it_refuses_set_config(data):
    assert_refused(
        "SELECT id FROM customers WHERE set_config('statement_timeout', '0', true) IS NOT NULL",
        "set_config() is not allowed",
    )


def test_it_refuses_current_setting(data):
    assert_refused("SELECT current_setting('is_superuser')::int", "current_setting()")


def test_it_refuses_pg_read_file(data):
    assert_refused("SELECT length(pg_read_file('/etc/passwd'))", "pg_read_file()")


def test_it_refuses_large_object_functions(data):
    assert_refused("SELECT lo_import('/etc/passwd')::bigint", "lo_import()")


def test_it_refuses_dblink(data):
    assert_refused("SELECT id FROM dblink('host=x', 'select 1') AS t(id bigint)", "dblink()")


def test_it_refuses_pg_terminate_backend(data):
    assert_refused("SELECT pg_terminate_backend(pid)::int FROM pg_stat_activity", "pg_terminate")


def test_it_refuses_schema_qualified_functions(data):
    assert_refused("SELECT pg_catalog.pg_sleep(1)::int", "pg_sleep() is not allowed")


def test_it_refuses_tables_outside_the_customer_side(data):
    assert_refused("SELECT id FROM auth_user", "Table auth_user is not allowed")


def test_it_refuses_system_catalogs(data):
    assert_refused("SELECT oid::bigint FROM pg_catalog.pg_authid", "is not allowed")


def test_it_refuses_several_columns(data):
    assert_refused("SELECT id, email FROM customers", "exactly one column")


def test_it_reports_a_syntax_error_with_its_position(data):
    sql = "SELECT id\nFROM customers WHERE AND email IS NULL"
    problem = check_segment_sql(sql)
    assert "syntax" in problem.message and problem.location(sql).startswith("line 2")


def test_a_query_without_functions_still_stops_at_the_timeout(data, settings):
    settings.SEGMENT_SQL_TIMEOUT_SECONDS = 0.5
    before = row_counts()
    started = time.monotonic()
    with pytest.raises(SegmentError, match="longer than the 0.5 s limit"):
        # Endless whatever the plan: a semi-join that stops at each customer's id
        # would end an endless series that reaches them, so this one never yields an id.
        preview_segment_sql(
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) "
            "SELECT n FROM t WHERE n < 0"
        )
    assert time.monotonic() - started < 5
    assert row_counts() == before


# -- the database layers, each without the parser in front ---------------------


def run_raw(sql: str, **kwargs) -> list[tuple]:
    with sandbox(**kwargs) as cursor:
        return cursor.fetchall(sql)


def test_pg_sleep_stops_at_the_timeout_even_past_the_parser(data, settings):
    settings.SEGMENT_SQL_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()
    with pytest.raises(QueryFailed) as failed:
        run_raw("SELECT pg_sleep(60)")
    assert failed.value.sqlstate == "57014"
    assert time.monotonic() - started < 5


def test_the_transaction_is_read_only_even_past_the_parser(data):
    before = row_counts()
    with pytest.raises(QueryFailed):
        run_raw("WITH d AS (DELETE FROM customers RETURNING id) SELECT id FROM d")
    assert row_counts() == before


def test_two_statements_cannot_run_in_one_call_even_past_the_parser(data):
    before = row_counts()
    with pytest.raises(QueryFailed, match="multiple commands"):
        run_raw("SELECT 1; DELETE FROM customers")
    assert row_counts() == before


def test_set_config_cannot_outlive_the_sandbox(data):
    with sandbox() as cursor:
        cursor.fetchall("SELECT set_config('statement_timeout', '0', false)")
    assert row_counts()["session"][1] == "0"  # the session default, untouched
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('transaction_read_only')")
        assert cursor.fetchone()[0] == "off"


@pytest.fixture
def role(data):
    if not is_role_active():
        pytest.skip("the database refused to create the read-only role")


@pytest.mark.usefixtures("role")
class TestTheReadOnlyRole:
    def test_it_cannot_read_other_tables(self, data):
        with pytest.raises(QueryFailed, match="permission denied"):
            run_raw("SELECT count(*) FROM auth_user")

    def test_it_cannot_read_server_files(self, data):
        with pytest.raises(QueryFailed, match="permission denied"):
            run_raw("SELECT pg_read_file('/etc/passwd')")

    def test_it_cannot_signal_other_backends(self, data):
        with pytest.raises(QueryFailed, match="permission denied|must be a (member|superuser)"):
            run_raw(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() LIMIT 1"
            )

    def test_it_can_read_the_customer_side_tables(self, data):
        assert run_raw("SELECT count(*) FROM customers")[0][0] == 3

    def test_the_role_is_dropped_again_afterwards(self, data):
        assert run_raw("SELECT current_user")[0][0] != row_counts()["session"][0]


def test_it_refuses_xml_functions(data):
    assert_refused(
        "SELECT id FROM customers WHERE xmlparse(document '<a/>') IS NOT NULL", "XML functions"
    )


def test_temporary_files_are_capped_inside_the_sandbox_only(data):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = session_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SHOW temp_file_limit")
        default = cursor.fetchone()[0]
    with sandbox() as sandboxed:
        limit = sandboxed.fetchall("SHOW temp_file_limit")[0][0]
    assert limit == ("1GB" if superuser else default)
    with connection.cursor() as cursor:
        cursor.execute("SHOW temp_file_limit")
        assert cursor.fetchone()[0] == default
