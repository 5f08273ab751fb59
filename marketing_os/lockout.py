"""Login throttling (django-axes): the client's address behind our proxy, and the lockout page.

The limits are settings (`LOGIN_FAILURE_LIMIT`, `LOGIN_LOCKOUT_MINUTES`); axes counts failed
logins per username and address in the database (every gunicorn worker sees the same
counts) and calls the two functions below. Only the password login (`/login/`, and the
admin's) goes through `authenticate`; the API's keys never do, so it is never locked out.
"""

import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

log = logging.getLogger(__name__)

# gunicorn trusts forwarded headers from these only (`--forwarded-allow-ips`, serve.py):
# the TLS proxy on the same host (docs/operations.md).
TRUSTED_PROXIES = {"127.0.0.1", "::1"}


def client_ip(request: HttpRequest) -> str | None:
    """The address a login comes from.

    Through the proxy on this host every request comes from loopback, so the client is the
    last address in X-Forwarded-For — the one our proxy appended; any before it are what the
    client itself claimed, and would let it pick a fresh address for every guess.
    """
    remote = request.META.get("REMOTE_ADDR")
    if remote not in TRUSTED_PROXIES:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return remote  # no header (a local request) or a bad one


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The login page again (429), saying the login is blocked and for how long."""
    username = get_client_username(request, credentials) or ""
    until = lockout_end(request, username=username)
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next", ""),
        "locked_out": True,
        "locked_username": username,
        "locked_minutes": minutes_left(until, now=timezone.now()),
        "locked_until": until,
    }
    return render(request, "registration/login.html", context, status=429)


def lockout_end(request: HttpRequest, *, username: str) -> datetime:
    """When this username may log in again from this address: its latest failure plus the
    cool-off (failures while locked out are not counted, so this does not move)."""
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    latest = AccessAttempt.objects.filter(username=username, ip_address=ip).aggregate(
        latest=Max("attempt_time")
    )["latest"]
    return (latest or timezone.now()) + get_cool_off(request)


@dataclass(frozen=True)
class Lockout:
    ip_address: str
    until: datetime


def lockouts_of(username: str, *, now: datetime) -> list[Lockout]:
    """The addresses this username is locked out from now, and until when (the users page)."""
    attempts = AccessAttempt.objects.filter(
        username=username,
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gt=now - settings.AXES_COOLOFF_TIME,
    ).order_by("ip_address")
    return [Lockout(a.ip_address, a.attempt_time + settings.AXES_COOLOFF_TIME) for a in attempts]


def unlock(username: str) -> int:
    """Forget this username's failed logins from every address; how many addresses it had."""
    count, _ = AccessAttempt.objects.filter(username=username).delete()
    log.info("Login failures of %r cleared (%d addresses).", username, count)
    return count


def minutes_left(until: datetime, *, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))
