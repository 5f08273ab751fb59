"""Sending email through Resend. The only module that imports `resend`.

Small on purpose: send one email, or one batch of at most 100 under an
idempotency key (what the automation sender needs). Retry policy, rate limits
and bookkeeping belong to the callers; errors come back as `SendError` with
the HTTP status and any `Retry-After`, so callers can decide.

The SDK keeps its configuration in module globals and reads `RESEND_API_URL`
from the environment only when first imported; `_configure` sets key, base URL
and timeout again before every call, so a variable set later (tests, a `.env`
loaded after import) is honoured. One process sends from one thread at a time.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import resend
from django.conf import settings
from resend.exceptions import ResendError

DEFAULT_API_URL = "https://api.resend.com"
BATCH_LIMIT = 100
TIMEOUT_SECONDS = 20  # when settings has no RESEND_TIMEOUT_SECONDS


class MailerNotConfigured(Exception):
    """RESEND_API_KEY or EMAIL_FROM is not set."""


class SendError(Exception):
    """Resend did not accept the email(s). `status` is None when it was not reached."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    html: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # ASCII letters, digits, _ and -


@dataclass(frozen=True)
class BatchResult:
    """What Resend made of a permissive batch, by position in the batch."""

    ids: dict[int, str]  # accepted: index → Resend id
    errors: dict[int, str]  # refused by validation: index → Resend's reason


def missing_settings() -> list[str]:
    """Names of the settings sending needs but lacks ([] when ready to send)."""
    return [name for name in ("RESEND_API_KEY", "EMAIL_FROM") if not getattr(settings, name, "")]


def configuration_problem() -> str:
    """Why sending cannot start, in one sentence ("" when it can)."""
    missing = missing_settings()
    return f"Sending email needs {' and '.join(missing)} to be set." if missing else ""


def send_email(email: Email, *, idempotency_key: str | None = None) -> str:
    """Send one email; return Resend's id for it."""
    _configure()
    options = {"idempotency_key": idempotency_key} if idempotency_key else None
    response = _call(resend.Emails.send, _params(email), options)
    return response["id"]


def send_batch(emails: Sequence[Email], *, idempotency_key: str) -> list[str]:
    """Send up to 100 emails in one call; return their Resend ids, in order.

    Repeating a call with the same key and the same emails within 24 hours
    sends nothing new and returns the same ids.
    """
    if not 1 <= len(emails) <= BATCH_LIMIT:
        raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} emails, not {len(emails)}")
    _configure()
    params = [_params(email) for email in emails]
    response = _call(resend.Batch.send, params, {"idempotency_key": idempotency_key})
    return [item["id"] for item in response["data"]]


def send_batch_permissive(emails: Sequence[Email], *, idempotency_key: str) -> BatchResult:
    """Like `send_batch`, but an invalid email fails alone instead of failing the batch.

    Resend's permissive batch validation answers the ids of the accepted emails
    in order, and the refused ones as `errors` with their index.
    """
    if not 1 <= len(emails) <= BATCH_LIMIT:
        raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} emails, not {len(emails)}")
    _configure()
    params = [_params(email) for email in emails]
    options = {"idempotency_key": idempotency_key, "batch_validation": "permissive"}
    response = _call(resend.Batch.send, params, options)
    errors = {int(e["index"]): str(e["message"]) for e in response.get("errors") or []}
    accepted = [index for index in range(len(emails)) if index not in errors]
    ids = [item["id"] for item in response["data"]]
    return BatchResult(ids=dict(zip(accepted, ids, strict=True)), errors=errors)


def _configure() -> None:
    problem = configuration_problem()
    if problem:
        raise MailerNotConfigured(problem)
    resend.api_key = settings.RESEND_API_KEY
    resend.api_url = os.environ.get("RESEND_API_URL") or DEFAULT_API_URL
    timeout = getattr(settings, "RESEND_TIMEOUT_SECONDS", None) or TIMEOUT_SECONDS
    resend.default_http_client = resend.RequestsClient(timeout=timeout)


def _params(email: Email) -> dict:
    params = {
        "from": settings.EMAIL_FROM,
        "to": [email.to],
        "subject": email.subject,
        "html": email.html,
        "text": email.text,
    }
    if email.headers:
        params["headers"] = email.headers
    if email.tags:
        params["tags"] = [{"name": name, "value": value} for name, value in email.tags.items()]
    return params


def _call(method, params, options):
    try:
        return method(params, options) if options else method(params)
    except ResendError as error:
        raise _send_error(error) from None


def _send_error(error: ResendError) -> SendError:
    if error.error_type == "HttpClientError":
        return SendError(f"Could not reach Resend: {error.message}")
    status = int(error.code) if str(error.code).isdigit() else None
    headers = {key.lower(): value for key, value in (error.headers or {}).items()}
    return SendError(
        f"Resend refused the email ({status}): {error.message}",
        status=status,
        retry_after=_seconds(headers.get("retry-after")),
    )


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
