"""The plumbing every JSON endpoint under /api/ shares.

`api_endpoint` makes a view answer JSON whatever happens (405, errors raised as
`ApiError`, and, as a last resort, a logged JSON 500). `ingest_endpoint` adds
what every POST needs: the Bearer key, reading and parsing the body within the
limits, and the `Idempotency-Key` — all inside one transaction, so a request is
all-or-nothing and a concurrent repeat of the same key waits for the first.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from marketing_os import rate_limit
from marketing_os.access import denied_page
from marketing_os.models import ApiKey, IdempotencyRecord

logger = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX_CHARS = 255
MAX_DEPTH = 32
PURGE_BATCH = 100

View = Callable[..., HttpResponse]


class ApiError(Exception):
    """An answer other than success, raised from anywhere below a view."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        response = error_response(self.status, self.code, self.message, **self.extra)
        for name, value in self.headers.items():
            response[name] = value
        return response


def error_response(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    response = JsonResponse({"error": code, "message": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def item_errors(errors: Iterable[Any]) -> JsonResponse:
    """422 naming every bad item (`ItemError`s from the ingest functions)."""
    return JsonResponse({"errors": [error.as_dict() for error in errors]}, status=422)


# -- views -----------------------------------------------------------------------


def api_endpoint(*methods: str) -> Callable[[View], View]:
    """CSRF-exempt, no login redirect, JSON 405 for other methods, never HTML."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(
                    405, "method_not_allowed", f"Use {' or '.join(methods)} here."
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                response = view(request, *args, **kwargs)
            except ApiError as error:
                response = error.response()
            except Exception:
                # A bug, not bad input: validation is meant to catch every bad input.
                logger.exception("API %s %s failed", request.method, request.path)
                response = error_response(500, "server_error", "Something went wrong on our side.")
            return rate_limit.add_headers(request, response)

        return csrf_exempt(login_not_required(wrapper))

    return decorate


def ingest_endpoint(view: Callable[[HttpRequest, list], HttpResponse]) -> View:
    """A POST of one object or an array of them, handed to `view` as a list.

    Anything but a 2xx answer rolls the transaction back, so a rejected request
    stores nothing and does not use up its Idempotency-Key.
    """

    @api_endpoint("POST")
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        api_key = authenticate(request, now=now, scope=ApiKey.Scope.INGEST)
        items, canonical = parse_items(read_body(request))
        idempotency_key = read_idempotency_key(request)
        with transaction.atomic():
            record_id = None
            if idempotency_key:
                request_hash = hash_request(request.path, canonical)
                record_id = claim_idempotency_key(
                    api_key, idempotency_key, request_hash=request_hash, path=request.path, now=now
                )
                if record_id is None:
                    return replay(api_key, idempotency_key, request_hash=request_hash)
            response = view(request, items)
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
            elif record_id:
                store_answer(record_id, response)
        return response

    return wrapper


@csrf_exempt
@login_not_required
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Every unknown path under /api/ (even with DEBUG on, which shows HTML 404s)."""
    return error_response(404, "not_found", f"There is no endpoint at {request.path}.")


def _api_path(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _api_path(request):
        return error_response(400, "bad_request", "The request could not be understood.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _api_path(request):
        return error_response(403, "forbidden", "You may not do this.")
    return denied_page(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _api_path(request):
        return error_response(404, "not_found", f"There is no endpoint at {request.path}.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _api_path(request):
        return error_response(500, "server_error", "Something went wrong on our side.")
    return defaults.server_error(request)


# -- auth --------------------------------------------------------------------------


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate(request: HttpRequest, *, now: datetime, scope: str | None = None) -> ApiKey:
    """The active key named by `Authorization: Bearer <key>` (401 if none), holding `scope`
    (403 if not; None: any key will do) and within its rate limit (429 if not).

    A request refused here writes nothing. One that passes is counted against the key's
    limit (`marketing_os.rate_limit`), whatever comes of it afterwards: a 400, a 422 and
    the replay of an Idempotency-Key all count.
    """
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.")
    key = ApiKey.objects.authenticate(token) if token.isprintable() else None
    if key is None:
        raise ApiError(401, "unauthorized", "The API key is wrong or has been revoked.")
    if scope is not None and not key.allows(scope):
        raise insufficient_scope(request, key, scope)
    count_against_limit(request, key, now=now)
    key.touch(now=now)
    return key


def insufficient_scope(request: HttpRequest, key: ApiKey, scope: str) -> ApiError:
    """403, with the RFC 6750 `WWW-Authenticate` error naming the scope."""
    return ApiError(
        403,
        "insufficient_scope",
        f"This API key lacks the '{scope}' scope, which {request.method} {request.path} "
        f"needs (the key has: {key.scopes_display}). An admin can make a key with it.",
        scope=str(scope),
        headers={
            "WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'
        },
    )


def count_against_limit(request: HttpRequest, key: ApiKey, *, now: datetime) -> None:
    """Count the request (in autocommit: call it outside the request's transaction);
    429 when the key's minute is used up. The state goes on `request` for the headers."""
    state = rate_limit.count_request(key, now=now)
    if state is None:
        return  # unlimited
    request.api_rate = state  # the X-RateLimit-* headers, whatever the answer
    if state.exceeded:
        raise ApiError(
            429,
            "rate_limited",
            f"This API key may make {state.limit} requests a minute; try again in "
            f"{state.reset_seconds} s.",
            retry_after=state.reset_seconds,
        )


def require_key_or_login(request: HttpRequest) -> None:
    """For read-only documents: a logged-in person or a valid API key."""
    if not request.user.is_authenticated:
        authenticate(request, now=timezone.now())


def login_or_redirect(request: HttpRequest) -> HttpResponse | None:
    """Pages for people under /api/ send strangers to the login page."""
    if request.user.is_authenticated:
        return None
    return redirect_to_login(request.get_full_path())


# -- reading the body ----------------------------------------------------------------


def read_body(request: HttpRequest) -> bytes:
    """The raw body: JSON in UTF-8 and at most API_MAX_BODY_BYTES, or 415/413."""
    if request.content_type.lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send Content-Type: application/json.")
    charset = request.content_params.get("charset", "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise ApiError(415, "unsupported_media_type", "Send the body in UTF-8.")
    limit = settings.API_MAX_BODY_BYTES
    too_big = ApiError(
        413, "payload_too_large", f"The body is over {limit} bytes.", max_bytes=limit
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_big
    # Never `request.body`: read at most one byte past the limit, whatever was declared.
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_big
    return body


def parse_items(body: bytes) -> tuple[list, bytes]:
    """The items (one object or an array of objects) and a canonical form of the body.

    The canonical form (sorted keys, no spaces) is what an Idempotency-Key is
    checked against, so a retry that re-serialises the same data still matches.
    """
    data = decode_json(body)
    if isinstance(data, dict):
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise ApiError(400, "bad_request", "Send one JSON object or an array of objects.")
    if not items:
        raise ApiError(400, "bad_request", "The array is empty: send at least one item.")
    limit = settings.API_MAX_ITEMS
    if len(items) > limit:
        raise ApiError(
            413, "too_many_items", f"Send at most {limit} items per request.", max_items=limit
        )
    if nested_deeper_than(data, MAX_DEPTH):
        raise ApiError(400, "bad_request", f"The JSON is nested more than {MAX_DEPTH} levels.")
    try:
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return items, canonical.encode("utf-8")
    except UnicodeEncodeError:
        # json.loads accepts "\ud800" (a lone surrogate) which no database can store.
        raise ApiError(400, "bad_request", "The JSON holds an invalid \\u escape.") from None


def _reject_constant(name: str) -> None:
    raise ApiError(400, "bad_json", f"{name} is not valid JSON; send a number or null.")


def decode_json(body: bytes) -> Any:
    if not body.strip():
        raise ApiError(400, "bad_json", "The body is empty: send JSON.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_json", "The body is not valid UTF-8.") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ApiError(400, "bad_json", f"The body is not valid JSON: {error}.") from None
    except RecursionError:
        raise ApiError(400, "bad_json", "The JSON is nested too deeply.") from None
    except ValueError:
        # Integers beyond Python's digit limit (4,300) raise a plain ValueError.
        raise ApiError(400, "bad_json", "The body holds a number too long to read.") from None


def nested_deeper_than(data: Any, limit: int) -> bool:
    """Checked without recursion, so any depth is safe to look at."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


# -- idempotency ---------------------------------------------------------------------


def read_idempotency_key(request: HttpRequest) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_CHARS or not key.isprintable():
        raise ApiError(
            400,
            "bad_idempotency_key",
            f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable characters.",
        )
    return key


def hash_request(path: str, canonical: bytes) -> str:
    return hashlib.sha256(path.encode() + b"\n" + canonical).hexdigest()


# A new key inserts a row; a key whose row is over 24 h old takes that row over.
# A concurrent request with the same key blocks on the unique index until the
# first one commits (then it sees the row) or rolls back (then it inserts).
CLAIM_KEY = """
INSERT INTO api_idempotency_records (api_key_id, key, request_hash, path, created_at)
VALUES (%(api_key)s, %(key)s, %(hash)s, %(path)s, %(now)s)
ON CONFLICT (api_key_id, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash, path = EXCLUDED.path,
    status_code = NULL, response_body = NULL, created_at = EXCLUDED.created_at
WHERE api_idempotency_records.created_at <= %(expired)s
RETURNING id
"""


def claim_idempotency_key(
    api_key: ApiKey, key: str, *, request_hash: str, path: str, now: datetime
) -> int | None:
    """The id of the record to store this request's answer in; None when the key
    was used in the last 24 h. Runs inside the request's transaction."""
    purge_idempotency_records(now=now, limit=PURGE_BATCH)
    params = {"api_key": api_key.pk, "key": key, "hash": request_hash, "path": path, "now": now}
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_KEY, params | {"expired": now - IDEMPOTENCY_WINDOW})
        row = cursor.fetchone()
    return row[0] if row else None


def replay(api_key: ApiKey, key: str, *, request_hash: str) -> HttpResponse:
    """The first answer given for this key, or a 409 if it was for another request."""
    record = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
    if record is None or record.request_hash != request_hash:
        raise ApiError(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request in the last 24 hours.",
        )
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def store_answer(record_id: int, response: HttpResponse) -> None:
    IdempotencyRecord.objects.filter(pk=record_id).update(
        status_code=response.status_code, response_body=response.content.decode()
    )


def purge_idempotency_records(*, now: datetime, limit: int | None = None) -> int:
    """Delete records older than the 24 h window; return how many.

    Called with a small `limit` on every claim, which keeps the table near one
    day of traffic without a cron job; rows locked by others are skipped.
    """
    expired = IdempotencyRecord.objects.filter(created_at__lte=now - IDEMPOTENCY_WINDOW)
    if limit is None:
        return expired.delete()[0]
    batch = expired.order_by("created_at").select_for_update(skip_locked=True)[:limit]
    ids = list(batch.values_list("pk", flat=True))
    return IdempotencyRecord.objects.filter(pk__in=ids).delete()[0] if ids else 0
