"""/settings/users/: admins list, create and change users."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from marketing_os import roles
from tests.factories import make_user

pytestmark = pytest.mark.django_db
User = get_user_model()
STRONG = "correct-horse-battery-staple"


def new_user(client, **fields):
    data = {
        "username": "priya",
        "email": "priya@example.com",
        "role": "marketer",
        "password1": STRONG,
        "password2": STRONG,
    }
    return client.post(reverse("users:new"), data | fields)


def listed(html: str) -> list[list[str]]:
    """The table's rows as lists of cell texts."""
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in rows
    ]


def test_it_lists_users_with_their_role_status_and_last_login(admin_client, superuser):
    make_user("vera", roles.VIEWER)
    make_user("nobody", None, is_active=False)

    rows = listed(admin_client.get(reverse("users:list")).content.decode())

    assert [row[:4] for row in rows] == [
        ["admin", "admin@example.com", "admin", "yes"],
        ["nobody", "nobody@example.com", "no role", "no"],
        ["root", "root@example.com", "superuser", "yes"],
        ["vera", "vera@example.com", "viewer", "yes"],
    ]
    assert rows[1][4] == "never"


def test_it_searches_by_username_or_email_and_filters_by_role(admin_client):
    make_user("vera", roles.VIEWER, email="vera@campus.example")
    make_user("mark", roles.MARKETER)
    make_user("nobody", None)
    url = reverse("users:list")

    by_email = listed(admin_client.get(url, {"q": "CAMPUS"}).content.decode())
    marketers = listed(admin_client.get(url, {"role": "marketer"}).content.decode())
    no_role = listed(admin_client.get(url, {"role": "none"}).content.decode())
    viewers = listed(
        admin_client.get(url, {"role": "viewer", "is_active": "true"}).content.decode()
    )

    assert [row[0] for row in by_email] == ["vera"]
    assert [row[0] for row in marketers] == ["mark"]
    assert [row[0] for row in no_role] == ["nobody"]
    assert [row[0] for row in viewers] == ["vera"]


def test_the_list_paginates_with_few_queries(admin_client, django_assert_max_num_queries):
    for n in range(60):
        make_user(f"user{n:02d}", roles.ROLES[n % 3])

    # session, user, permissions (2), size estimate, count, page, the page's role groups
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("users:list"), {"page": 2})

    rows = listed(response.content.decode())
    assert len(rows) == 11  # 61 users, 50 a page
    assert {row[2] for row in rows} <= {"viewer", "marketer", "admin"}


def test_an_admin_creates_a_user_with_a_role_who_can_then_log_in(admin_client, client):
    response = new_user(admin_client)

    assert response.status_code == 302
    priya = User.objects.get(username="priya")
    assert roles.role_of(priya) is roles.MARKETER and priya.email == "priya@example.com"
    login = client.post(reverse("login"), {"username": "priya", "password": STRONG})
    assert login.status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("48213957201", "This password is entirely numeric."),
        ("priya.example", "The password is too similar to the"),
    ],
)
def test_a_weak_password_is_refused_with_the_validator_s_message(admin_client, password, message):
    response = new_user(admin_client, password1=password, password2=password)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="priya").exists()


def test_the_passwords_must_match_and_the_username_be_new(admin_client):
    mismatch = new_user(admin_client, password2=STRONG + "x")
    taken = new_user(admin_client, username="ADMIN")

    assert "didn’t match" in mismatch.content.decode()
    assert "A user with that username already exists." in taken.content.decode()
    assert User.objects.count() == 1


def test_an_admin_changes_a_user_s_role_and_deactivates_them(admin_client):
    vera = make_user("vera", roles.VIEWER)
    url = reverse("users:edit", args=[vera.pk])
    assert re.search(r'value="viewer"[^>]*checked', admin_client.get(url).content.decode())

    admin_client.post(url, {"role": "marketer", "is_active": "on"})
    vera.refresh_from_db()
    assert roles.role_of(vera) is roles.MARKETER and vera.is_active

    admin_client.post(url, {"role": ""})
    vera.refresh_from_db()
    assert roles.role_of(vera) is None and not vera.is_active


def test_an_admin_cannot_demote_or_deactivate_themselves(admin_client, admin_user):
    url = reverse("users:edit", args=[admin_user.pk])

    demote = admin_client.post(url, {"role": "marketer", "is_active": "on"})
    deactivate = admin_client.post(url, {"role": "admin"})

    assert "You cannot take away your own admin role" in demote.content.decode()
    assert "You cannot deactivate your own account" in deactivate.content.decode()
    admin_user.refresh_from_db()
    assert roles.role_of(admin_user) is roles.ADMIN and admin_user.is_active


def test_superusers_are_shown_but_not_changed_here(admin_client, superuser):
    url = reverse("users:edit", args=[superuser.pk])

    page = admin_client.get(url).content.decode()
    refused = admin_client.post(url, {"role": "", "is_active": ""})

    assert "This account is a superuser" in page and "<form" not in page.split("</nav>")[-1]
    assert (
        refused.status_code == 403 and "changed in Django&#x27;s admin" in refused.content.decode()
    )
    superuser.refresh_from_db()
    assert superuser.is_active


def test_a_missing_user_is_a_404(admin_client):
    assert admin_client.get(reverse("users:edit", args=[999])).status_code == 404
