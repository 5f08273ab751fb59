from datetime import UTC, datetime

import pytest
from django.test import Client

from marketing_os.roles import ADMIN, MARKETER, VIEWER
from tests.factories import make_user
from tests.fake_resend import fake_resend  # noqa: F401 (a fixture for every test)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # The default PBKDF2 hasher spends about a second per login on this machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


# Users by role (marketing_os/roles.py). `user` and `logged_in` are a marketer: the role
# that creates and edits, which is what most page tests exercise.


@pytest.fixture
def user(db):
    return make_user("marketer", MARKETER, email="m@example.com")


@pytest.fixture
def marketer(user):
    return user


@pytest.fixture
def viewer(db):
    return make_user("viewer", VIEWER)


@pytest.fixture
def admin_user(db):
    """An admin by role, not a superuser (overrides pytest-django's fixture of that name)."""
    return make_user("admin", ADMIN)


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "a-long-pw-1")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def _client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(viewer) -> Client:
    return _client_of(viewer)


@pytest.fixture
def admin_client(admin_user) -> Client:
    """An admin by role logged in (pytest-django's is a superuser: see `superuser_client`)."""
    return _client_of(admin_user)


@pytest.fixture
def superuser_client(superuser) -> Client:
    return _client_of(superuser)
