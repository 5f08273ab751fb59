"""Who is acting: the logged-in person of a web request, or the system for a command.

Every audit entry takes its actor from here when it is written. The web
request's actor is set by `AuditActorMiddleware` and read lazily (the user is
only loaded when an entry is written); a management command names itself with
`acting_as(command_actor("run_automation"))`. Anything else (a shell, a script)
is "system: <command> (os user …)" from the process's own command line.

auditlog's own `set_actor` is not used: it never restores an outer actor when
contexts nest (its ContextVar is set, never reset), whereas a command started
inside a test or a request must hand the actor back when it is done.
"""

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Actor:
    label: str  # what the pages show: a username, or "system: run_automation (os user deploy)"
    user: object | None = None  # the auth user, when a person acts


_current: ContextVar[Callable[[], Actor] | None] = ContextVar("audit_actor", default=None)


def current_actor() -> Actor:
    getter = _current.get()
    return getter() if getter else Actor(label=process_label())


@contextmanager
def acting_as(actor: Actor | Callable[[], Actor]) -> Iterator[None]:
    """Attribute every audit entry written inside the block to `actor`."""
    token = _current.set(actor if callable(actor) else (lambda: actor))
    try:
        yield
    finally:
        _current.reset(token)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid {os.getuid()}"


def command_actor(command: str) -> Actor:
    """The actor of a management command: the system, run by this OS user."""
    return Actor(label=f"system: {command} (os user {os_user()})")


def user_actor(user) -> Actor:
    return Actor(label=user.get_username(), user=user)


def process_label() -> str:
    """`system: <command>` from this process's command line (`manage.py shell` → shell)."""
    argv = sys.argv or [""]
    program = Path(argv[0]).name
    command = argv[1] if program == "manage.py" and len(argv) > 1 else program or "python"
    return command_actor(command).label


def request_actor(request: HttpRequest) -> Actor:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_actor(user)
    return Actor(label="anonymous")


class AuditActorMiddleware:
    """Attributes what a request writes to its logged-in user (after AuthenticationMiddleware).

    No IP address is recorded: behind the proxy the app sees only the proxy's,
    and X-Forwarded-For is whatever the client chose to send.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(lambda: request_actor(request)):
            return self.get_response(request)
