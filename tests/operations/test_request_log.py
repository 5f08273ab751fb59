import json
import logging

import pytest

from marketing_os.request_log import JsonFormatter


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "marketing_os.requests"]


@pytest.mark.django_db
def test_every_request_logs_one_line_with_its_fields(client, caplog):
    caplog.set_level(logging.INFO, logger="marketing_os.requests")

    response = client.get("/healthz?token=do-not-log")

    [line] = request_lines(caplog)
    assert (line.method, line.path, line.status, line.user_id) == ("GET", "/healthz", 200, None)
    assert line.duration_ms >= 0
    assert line.request_id == response["X-Request-ID"]
    assert "do-not-log" not in line.getMessage()


@pytest.mark.django_db
def test_the_line_names_the_logged_in_user(logged_in, user, caplog):
    caplog.set_level(logging.INFO, logger="marketing_os.requests")

    logged_in.get("/customers/")

    assert request_lines(caplog)[-1].user_id == user.pk


@pytest.mark.django_db
def test_a_callers_request_id_carries_through_but_a_forged_one_does_not(client, caplog):
    caplog.set_level(logging.INFO, logger="marketing_os.requests")

    kept = client.get("/healthz", headers={"X-Request-ID": "proxy-1234"})
    replaced = client.get("/healthz", headers={"X-Request-ID": 'x" "status": 200'})

    assert kept["X-Request-ID"] == "proxy-1234"
    assert replaced["X-Request-ID"] != 'x" "status": 200'
    assert [r.request_id for r in request_lines(caplog)] == ["proxy-1234", replaced["X-Request-ID"]]


@pytest.mark.django_db
def test_not_found_and_refused_requests_are_logged_too(client, caplog):
    caplog.set_level(logging.INFO, logger="marketing_os.requests")

    client.get("/api/v1/nowhere")
    client.post("/api/v1/funnel-events", data="[]", content_type="application/json")

    assert [r.status for r in request_lines(caplog)] == [404, 401]


def test_the_formatter_writes_one_json_object_with_extra_fields_and_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.makeLogRecord(
            {"name": "x", "levelname": "ERROR", "msg": "failed %s", "args": ("here",)}
        )
        record.exc_info = __import__("sys").exc_info()
    record.status = 500

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed here" and entry["status"] == 500
    assert entry["level"] == "ERROR" and "ValueError: boom" in entry["exception"]


def test_the_formatter_leaves_out_objects_such_as_the_request_with_its_query_string(rf):
    record = logging.makeLogRecord({"name": "django.request", "msg": "Not Found: /x"})
    record.request = rf.get("/x?email=someone@example.com")
    record.status_code = 404
    record.user_id = None

    entry = json.loads(JsonFormatter().format(record))

    assert entry["status_code"] == 404 and entry["user_id"] is None
    assert "request" not in entry
    assert "someone@example.com" not in json.dumps(entry)
