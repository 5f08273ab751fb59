"""Login throttling (django-axes): N failures lock a username from one address for a while."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from marketing_os.lockout import client_ip
from marketing_os.models import create_api_key
from marketing_os.roles import MARKETER
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db
WRONG = "not-the-password"
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=10)


@pytest.fixture
def asha():
    return make_user("asha", MARKETER)


def log_in(client: Client, password: str, username: str = "asha", **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, headers=headers
    )


def test_failures_below_the_limit_just_say_the_password_did_not_match(client, asha):
    for _ in range(2):
        response = log_in(client, WRONG)
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()

    assert log_in(client, PASSWORD).status_code == 302


def test_the_nth_failure_locks_the_login_and_the_page_says_for_how_long(client, asha):
    log_in(client, WRONG)
    log_in(client, WRONG)

    response = log_in(client, WRONG)

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins." in page
    assert "“asha” from your address is blocked for 10 more minutes" in page
    assert 'name="password"' in page and "Marketing OS</a>" in page  # the login page, in layout


def test_even_the_right_password_is_refused_until_the_cool_off_ends(client, asha, settings):
    for _ in range(3):
        log_in(client, WRONG)

    refused = log_in(client, PASSWORD)
    assert refused.status_code == 429 and "even with the right password" in refused.content.decode()
    assert client.get("/customers/").status_code == 302  # still not logged in

    # The cool-off is counted from the last failure; move that back past it.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=11)
    )
    assert log_in(client, PASSWORD).status_code == 302


def test_it_locks_only_that_username_from_that_address(client, asha):
    make_user("ravi", MARKETER)
    for _ in range(3):
        log_in(client, WRONG)

    assert log_in(client, PASSWORD, username="ravi").status_code == 302
    other_address = Client(REMOTE_ADDR="10.0.0.7")
    assert log_in(other_address, PASSWORD).status_code == 302


def test_a_successful_login_clears_the_failures(client, asha):
    log_in(client, WRONG)
    log_in(client, WRONG)
    assert log_in(client, PASSWORD).status_code == 302
    client.post(reverse("logout"))

    log_in(client, WRONG)
    log_in(client, WRONG)
    assert log_in(client, PASSWORD).status_code == 302


def test_axes_reset_unlocks_at_once(client, asha):
    for _ in range(3):
        log_in(client, WRONG)
    assert log_in(client, PASSWORD).status_code == 429

    call_command("axes_reset")

    assert log_in(client, PASSWORD).status_code == 302


def test_behind_the_proxy_each_client_address_counts_apart(asha):
    # The proxy on this host connects from loopback and appends the client's address.
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for _ in range(3):
        log_in(proxy, WRONG, x_forwarded_for="203.0.113.5")

    assert log_in(proxy, PASSWORD, x_forwarded_for="203.0.113.5").status_code == 429
    assert log_in(proxy, PASSWORD, x_forwarded_for="198.51.100.9").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_a_client_cannot_dodge_the_lockout_by_sending_its_own_forwarded_address(asha):
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for n in range(3):
        # What the proxy forwards: whatever the client claimed, then the real address.
        log_in(proxy, WRONG, x_forwarded_for=f"10.9.9.{n}, 203.0.113.5")

    assert log_in(proxy, PASSWORD, x_forwarded_for="10.9.9.99, 203.0.113.5").status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", "", "203.0.113.5"),
        ("203.0.113.5", "10.0.0.1", "203.0.113.5"),  # not from our proxy: not believed
        ("127.0.0.1", "", "127.0.0.1"),  # a local request
        ("127.0.0.1", "198.51.100.9", "198.51.100.9"),
        ("::1", "2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ],
)
def test_the_client_address_is_the_proxy_s_last_forwarded_one(remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_a_locked_out_address_can_still_use_the_api(client, asha):
    for _ in range(3):
        log_in(client, WRONG)
    _, raw_key = create_api_key("lms")

    response = client.post(
        "/api/v1/customers",
        {"lms_lead_id": "L-1"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_key}"},
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "LOGIN_FAILURE_LIMIT must be a number, not 'lots'"),
        ("2.5", "LOGIN_FAILURE_LIMIT must be a whole number, not '2.5'"),
        ("0", "LOGIN_FAILURE_LIMIT must be at least 1, not '0'"),
    ],
)
def test_a_bad_failure_limit_stops_start_up_with_one_clear_line(value, message):
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=os.environ | {"LOGIN_FAILURE_LIMIT": value},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert message in done.stderr


def lockout_panel(html: str) -> str:
    return " ".join(
        html.split('aria-labelledby="lockout-heading"', 1)[1].split("</section>")[0].split()
    )


def test_an_admin_sees_the_lockout_on_the_user_s_page_and_unlocks_it(client, asha, admin_client):
    edit = reverse("users:edit", args=[asha.pk])
    assert "Not locked out." in lockout_panel(admin_client.get(edit).content.decode())
    for _ in range(3):
        log_in(client, WRONG)
    assert log_in(client, PASSWORD).status_code == 429

    panel = lockout_panel(admin_client.get(edit).content.decode())
    assert "Locked out after too many failed logins" in panel
    assert "from 127.0.0.1 until" in panel and "Unlock now" in panel

    response = admin_client.post(reverse("users:unlock", args=[asha.pk]), follow=True)
    assert "“asha” may log in again." in response.content.decode()
    assert "Not locked out." in lockout_panel(response.content.decode())
    assert not AccessAttempt.objects.filter(username="asha").exists()
    assert log_in(client, PASSWORD).status_code == 302


def test_an_expired_lockout_is_not_shown_and_unlocking_nobody_says_so(client, asha, admin_client):
    for _ in range(3):
        log_in(client, WRONG)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=11))
    edit = reverse("users:edit", args=[asha.pk])
    assert "Not locked out." in lockout_panel(admin_client.get(edit).content.decode())
    AccessAttempt.objects.all().delete()
    response = admin_client.post(reverse("users:unlock", args=[asha.pk]), follow=True)
    assert "“asha” was not locked out." in response.content.decode()


def test_only_a_post_from_an_admin_unlocks(client, asha, logged_in, admin_client):
    for _ in range(3):
        log_in(client, WRONG)
    unlock = reverse("users:unlock", args=[asha.pk])
    assert logged_in.post(unlock).status_code == 403  # a marketer
    assert admin_client.get(unlock).status_code == 405
    assert AccessAttempt.objects.filter(username="asha").exists()
    assert log_in(client, PASSWORD).status_code == 429


def test_a_superuser_is_unlocked_only_by_a_superuser(client, admin_client, superuser_client):
    boss = make_user("boss", None, is_superuser=True)
    for _ in range(3):
        log_in(client, WRONG, username="boss")
    unlock = reverse("users:unlock", args=[boss.pk])
    assert (
        "Unlock now" not in admin_client.get(reverse("users:edit", args=[boss.pk])).content.decode()
    )
    assert admin_client.post(unlock).status_code == 403
    assert AccessAttempt.objects.filter(username="boss").exists()
    assert superuser_client.post(unlock).status_code == 302
    assert not AccessAttempt.objects.filter(username="boss").exists()
