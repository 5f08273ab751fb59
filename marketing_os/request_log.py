"""One structured log line per request, and the JSON formatter every log line uses.

`RequestLogMiddleware` times each request and logs method, path (never the query
string: searches carry emails), status, duration, user id and a request id to the
`marketing_os.requests` logger. The request id is the caller's `X-Request-ID`
when it looks like one (so a proxy's id carries through), else a new one; the
response echoes it. `JsonFormatter` turns any record, with its `extra` fields,
into one JSON object per line.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("marketing_os.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# Long enough for a UUID or a proxy's trace id; nothing that could forge a log line.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Attributes every LogRecord has; anything else on a record came from `extra`.
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def request_id_for(request: HttpRequest) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if REQUEST_ID_PATTERN.fullmatch(offered) else uuid.uuid4().hex


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id_for(request)
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response[REQUEST_ID_HEADER] = request.request_id
        log_request(request, response, duration_ms=duration_ms)
        return response


def log_request(request: HttpRequest, response: HttpResponse, *, duration_ms: float) -> None:
    user = getattr(request, "user", None)
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": duration_ms,
        "user_id": user.pk if user is not None and user.is_authenticated else None,
        "request_id": request.request_id,
    }
    message = f"{request.method} {request.path} {response.status_code} {duration_ms}ms"
    logger.info(message, extra=fields)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, plain `extra` fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {
            key: value
            for key, value in vars(record).items()
            # Plain values only: django.request attaches the whole request, whose repr
            # carries the query string.
            if key not in STANDARD_ATTRIBUTES and isinstance(value, str | int | float | bool | None)
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)
