"""A local stand-in for Resend's HTTP API, for tests that send email.

A real HTTP server (stdlib, in a thread) so the real `resend` SDK is exercised
end to end: point `RESEND_API_URL` at `server.url` (the `fake_resend` fixture
does). It implements what Marketing OS uses:

- `POST /emails` (one email) and `POST /emails/batch` (at most 100);
- `Authorization: Bearer <api_key>`: missing or wrong → 401;
- `Idempotency-Key`: the same key and body again → the first answer, nothing
  new accepted; the same key with another body → 409;
- validation (`from`, `to`, `subject` required) → 422.

- `x-batch-validation: permissive` on a batch: valid emails are accepted,
  invalid ones come back in `errors` as `{"index", "message"}`;
- `rate_limit` (requests a second, a token bucket holding one second's worth):
  a call over it is answered 429 with `Retry-After` (seconds until the next
  token) and accepts nothing.

Switches for failure tests: `respond_next(status, times=…, retry_after=…)`
answers the next calls with an error (e.g. 429 with `Retry-After`, 500),
`fail_next(kind, times=…)` fails them in one of the ways `FAILURES` lists;
`failure_rate` fails that share of calls (seeded by `seed`, so the same calls
fail again on a rerun) in the ways `failure_mix` weighs (default: all 500s;
`REALISTIC_MIX` mixes 500, 503, 429 with `Retry-After`, connection resets and
timeouts, some of them *after* accepting the emails — see `FAILURES`);
`hang_seconds` delays every answer (to test timeouts); `reject` names addresses
answered as invalid.

For exactly-once checks: `accepted` logs every email accepted (recipient,
idempotency key, id; a replay adds nothing), `accepted_by_recipient()` counts
them per address; `GET /_stats` (counts, failures injected by kind) and
`GET /_accepted` (the log) serve the same to a benchmark driving a standalone
fake.

Runnable on its own for demos and benchmarks:
`python -m tests.fake_resend --port 8025 [--rate 2] [--failure-rate 0.3]
[--failure-mix realistic] [--seed 4] [--timeout-seconds 25]`.
"""

import argparse
import hashlib
import json
import random
import re
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

BATCH_LIMIT = 100

# How an injected failure looks to the client. "before" kinds are answered
# without looking at the emails; "after" kinds accept them first (Resend did the
# work, the answer was lost), so only the idempotency key prevents a double send.
FAILURES = {
    "500": "500 Internal Server Error, nothing accepted",
    "503": "503 Service Unavailable, nothing accepted",
    "429": "429 with Retry-After (`retry_after_seconds`), nothing accepted",
    "reset": "the connection reset (TCP RST) before any answer, nothing accepted",
    "reset_after_accept": "the emails accepted, then the connection reset before the answer",
    "timeout": "no answer for `timeout_seconds` (longer than the client waits), nothing accepted",
    "timeout_after_accept": "the emails accepted, then no answer for `timeout_seconds`",
}
# Mostly 5xx, some throttling, a few broken connections and timeouts.
REALISTIC_MIX = {
    "500": 40,
    "503": 25,
    "429": 15,
    "reset": 7,
    "reset_after_accept": 5,
    "timeout": 4,
    "timeout_after_accept": 4,
}


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: object
    status: int
    at: float = 0.0  # time.monotonic() when the request arrived
    failure: str = ""  # the injected failure's kind (FAILURES), if any


@dataclass
class _Forced:
    status: int
    times: int
    retry_after: float | None


@dataclass
class FakeResend:
    api_key: str = "re_test_key"
    failure_rate: float = 0.0
    failure_mix: dict[str, float] = field(default_factory=lambda: {"500": 1})
    seed: int = 4
    retry_after_seconds: float = 1.0  # the Retry-After of an injected 429
    timeout_seconds: float = 25.0  # how long an injected timeout stays silent
    hang_seconds: float = 0.0
    rate_limit: float = 0.0  # requests a second; 0 is no limit
    port: int = 0
    reject: set[str] = field(default_factory=set)  # addresses refused as invalid (422)
    keep_calls: bool = True  # a long benchmark may turn off the per-call record
    emails: list[dict] = field(default_factory=list)  # every email accepted, with its "id"
    calls: list[Call] = field(default_factory=list)  # every request, in order
    # every email accepted: {"to", "idempotency_key", "id"}; replays add nothing
    accepted: list[dict] = field(default_factory=list)

    def __post_init__(self):
        unknown = set(self.failure_mix) - set(FAILURES)
        if unknown:
            raise ValueError(f"unknown failure kinds {sorted(unknown)}; known: {sorted(FAILURES)}")
        self._lock = threading.Lock()
        self._forced: list[_Forced] = []
        self._forced_kinds: list[str] = []
        self._idempotent: dict[str, tuple[str, int, object]] = {}
        self._random = random.Random(self.seed)
        self.requests = 0  # every request answered (or dropped), replays and failures included
        self.replays = 0  # answered from the idempotency store
        self.injected: Counter = Counter()  # injected failures by kind
        self._tokens: float | None = None  # full until the first call
        self._refilled_at = 0.0
        self.throttled = 0  # calls answered 429 by the rate limit
        self._server = _QuietServer(("127.0.0.1", self.port), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a hanging answer must not hold up the test
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeResend":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond_next(self, status: int, *, times: int = 1, retry_after: float | None = None):
        """Answer the next `times` calls with `status` (after the auth check)."""
        self._forced.append(_Forced(status, times, retry_after))

    def fail_next(self, kind: str, *, times: int = 1) -> None:
        """Fail the next `times` calls in the way `kind` names (`FAILURES`)."""
        if kind not in FAILURES:
            raise ValueError(f"unknown failure kind {kind!r}; known: {sorted(FAILURES)}")
        self._forced_kinds.extend([kind] * times)

    def accepted_by_recipient(self) -> Counter:
        """How many emails were accepted for each address."""
        return Counter(address for email in self.emails for address in email["to"])

    def stats(self) -> dict:
        """`GET /_stats` (for benchmarks driving a standalone fake)."""
        with self._lock:
            counts = self.accepted_by_recipient()
            return {
                "emails": len(self.emails),
                "recipients": len(counts),
                "most_to_one_recipient": max(counts.values(), default=0),
                "throttled": self.throttled,
                "requests": self.requests,
                "replays": self.replays,
                "failures_injected": sum(self.injected.values()),
                "failures_by_kind": dict(sorted(self.injected.items())),
            }

    def accepted_log(self) -> list[dict]:
        """`GET /_accepted`: every email accepted, in order."""
        with self._lock:
            return list(self.accepted)

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict, object]:
        """(status, extra headers, JSON body) for one request; records it.

        The status is negative for an injected broken connection: -1 reset,
        -2 silence (`FAILURES`); the handler acts it out."""
        at = time.monotonic()
        with self._lock:
            self.requests += 1
            status, extra, body = self._answer(path, headers, raw)
            failure = extra.pop("_failure", "")
            if failure:
                self.injected[failure] += 1
            if self.keep_calls:
                self.calls.append(Call(path, headers, _json_or_none(raw), status, at, failure))
        return status, extra, body

    def _answer(self, path, headers, raw):
        if path not in ("/emails", "/emails/batch"):
            return 404, {}, _error(404, "not_found", "The requested endpoint does not exist.")
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") in ("", "None"):
            return 401, {}, _error(401, "missing_api_key", "Missing API key in the authorization")
        if auth != f"Bearer {self.api_key}":
            return 401, {}, _error(401, "invalid_api_key", "API key is invalid")
        if self._over_rate():
            self.throttled += 1
            wait = (1 - self._tokens) / self.rate_limit  # until the next token
            extra = {"Retry-After": f"{wait:.3f}"}
            return 429, extra, _error(429, "rate_limit_exceeded", "Too many requests.")
        forced = self._forced_failure()
        if forced:
            return forced
        failure = self._forced_kinds.pop(0) if self._forced_kinds else self._injected_failure()
        if failure and not failure.endswith("_after_accept"):
            return _failure_answer(failure, retry_after=self.retry_after_seconds)
        key = headers.get("idempotency-key")
        permissive = headers.get("x-batch-validation") == "permissive"
        digest = hashlib.sha256(path.encode() + raw + bytes(permissive)).hexdigest()
        if key and key in self._idempotent:
            self.replays += 1
            answer = self._replay(key, digest)
        else:
            status, body = self._accept(path, _json_or_none(raw), permissive=permissive, key=key)
            if key and status == 200:
                self._idempotent[key] = (digest, status, body)
            answer = status, {}, body
        return _failure_answer(failure) if failure else answer

    def _over_rate(self) -> bool:
        """A token bucket holding one second's worth of requests."""
        if not self.rate_limit:
            return False
        now = time.monotonic()
        capacity = max(1.0, self.rate_limit)
        if self._tokens is None:
            self._tokens = capacity
        else:
            refill = (now - self._refilled_at) * self.rate_limit
            self._tokens = min(capacity, self._tokens + refill)
        self._refilled_at = now
        if self._tokens < 1:
            return True
        self._tokens -= 1
        return False

    def _forced_failure(self):
        if self._forced:
            forced = self._forced[0]
            forced.times -= 1
            if forced.times <= 0:
                self._forced.pop(0)
            extra = {"Retry-After": str(forced.retry_after)} if forced.retry_after else {}
            name = "rate_limit_exceeded" if forced.status == 429 else "internal_server_error"
            return forced.status, extra, _error(forced.status, name, f"Forced {forced.status}")
        return None

    def _injected_failure(self) -> str:
        """The kind of failure to inject into this call ("" for none); seeded."""
        if not self.failure_rate or self._random.random() >= self.failure_rate:
            return ""
        kinds, weights = zip(*self.failure_mix.items(), strict=True)
        if len(kinds) == 1:  # no second draw: the same calls fail as before mixes existed
            return kinds[0]
        return self._random.choices(kinds, weights)[0]

    def _replay(self, key: str, digest: str):
        first_digest, status, body = self._idempotent[key]
        if first_digest != digest:
            return 409, {}, _error(409, "invalid_idempotent_request", "Key used with another body")
        return status, {}, body

    def _accept(self, path: str, body: object, *, permissive: bool, key=None) -> tuple[int, object]:
        items = body if path == "/emails/batch" else [body]
        if not isinstance(items, list) or not 1 <= len(items) <= BATCH_LIMIT:
            return 422, _error(422, "validation_error", "A batch holds 1 to 100 emails.")
        problems = {index: self._invalid(item) for index, item in enumerate(items)}
        errors = [{"index": i, "message": problem} for i, problem in problems.items() if problem]
        if errors and not (permissive and path == "/emails/batch"):
            return 422, _error(422, "validation_error", errors[0]["message"])
        accepted = [
            dict(item, id=str(uuid.uuid4())) for i, item in enumerate(items) if not problems[i]
        ]
        self.emails.extend(accepted)
        self.accepted.extend(
            {"to": address, "idempotency_key": key, "id": email["id"]}
            for email in accepted
            for address in (email["to"] if isinstance(email["to"], list) else [email["to"]])
        )
        ids = [{"id": email["id"]} for email in accepted]
        if path == "/emails":
            return 200, ids[0]
        return 200, ({"data": ids, "errors": errors} if permissive else {"data": ids})

    def _invalid(self, item: object) -> str:
        problem = _invalid(item)
        if not problem and set(item["to"]) & self.reject:
            return "Invalid `to` field. This address is refused."
        return problem


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out and hung up is expected, not news


def _invalid(item: object) -> str:
    if not isinstance(item, dict):
        return "Each email must be an object."
    for name in ("from", "to", "subject"):
        if not item.get(name):
            return f"The `{name}` field is missing."
    recipients = item["to"] if isinstance(item["to"], list) else [item["to"]]
    for address in recipients:
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            return "Invalid `to` field. The email address needs to be like `email@example.com`."
    return ""


_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


RESET, SILENCE = -1, -2  # `answer` statuses the handler acts out instead of answering


def _failure_answer(kind: str, *, retry_after: float = 1.0) -> tuple[int, dict, object]:
    extra = {"_failure": kind}
    if kind == "500":
        return 500, extra, _error(500, "internal_server_error", "Injected failure")
    if kind == "503":
        return 503, extra, _error(503, "service_unavailable", "Injected failure")
    if kind == "429":
        extra["Retry-After"] = f"{retry_after:g}"
        return 429, extra, _error(429, "rate_limit_exceeded", "Too many requests.")
    return (RESET if kind.startswith("reset") else SILENCE), extra, None


def _error(status: int, name: str, message: str) -> dict:
    return {"statusCode": status, "name": name, "message": message}


def _json_or_none(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _handler_for(fake: FakeResend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            if fake.hang_seconds:
                time.sleep(fake.hang_seconds)
            status, extra, body = fake.answer(self.path, headers, raw)
            if status == SILENCE:
                time.sleep(fake.timeout_seconds)  # the client has given up by now
            if status in (RESET, SILENCE):
                return self._reset()
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _reset(self) -> None:
            """Close with a TCP RST (SO_LINGER 0): the client sees 'connection reset'."""
            self.close_connection = True
            try:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            except OSError:
                pass  # the client already hung up

        def do_GET(self) -> None:  # noqa: N802
            pages = {"/_stats": fake.stats, "/_accepted": fake.accepted_log}
            found = self.path in pages
            payload = json.dumps(pages[self.path]() if found else {}).encode()
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # keep test output quiet

    return Handler


@pytest.fixture
def fake_resend(monkeypatch, settings):
    """A running fake Resend; the SDK's base URL, key and sender point at it."""
    server = FakeResend().start()
    monkeypatch.setenv("RESEND_API_URL", server.url)
    settings.RESEND_API_KEY = server.api_key
    settings.EMAIL_FROM = "Your Next Campus <hello@example.com>"
    yield server
    server.stop()


def parse_mix(text: str) -> dict[str, float]:
    """`realistic`, or `500=4,503=2,reset=1` (a kind alone weighs 1)."""
    if text == "realistic":
        return dict(REALISTIC_MIX)
    mix = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, weight = part.partition("=")
        if kind not in FAILURES:
            raise SystemExit(f"unknown failure kind {kind!r}; known: {', '.join(FAILURES)}")
        mix[kind] = float(weight or 1)
    return mix


def main() -> None:
    """Serve until interrupted: `python -m tests.fake_resend --port 8025`."""
    parser = argparse.ArgumentParser(description="A local stand-in for Resend's API.")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--api-key", default="re_test_key")
    parser.add_argument("--rate", type=float, default=0.0, help="requests a second (0: none)")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="share of calls to fail")
    parser.add_argument(
        "--failure-mix",
        default="500",
        help="'realistic' (REALISTIC_MIX) or kind=weight,… of " + ", ".join(FAILURES),
    )
    parser.add_argument("--seed", type=int, default=4, help="which calls fail (repeatable)")
    parser.add_argument("--retry-after", type=float, default=1.0, help="of injected 429s")
    parser.add_argument("--timeout-seconds", type=float, default=25.0, help="of injected timeouts")
    args = parser.parse_args()
    server = FakeResend(
        api_key=args.api_key,
        rate_limit=args.rate,
        failure_rate=args.failure_rate,
        failure_mix=parse_mix(args.failure_mix),
        seed=args.seed,
        retry_after_seconds=args.retry_after,
        timeout_seconds=args.timeout_seconds,
        port=args.port,
    )
    server.keep_calls = False  # a long demo must not grow without bound
    print(f"Fake Resend on {server.url} (RESEND_API_URL), key {server.api_key}", flush=True)
    try:
        server._server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    main()
