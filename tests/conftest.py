from datetime import UTC, datetime

import pytest

from tests.fake_resend import fake_resend  # noqa: F401 (a fixture for every test)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # The default PBKDF2 hasher spends about a second per login on this machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        username="marketer", password="a-long-test-password", email="m@example.com"
    )


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client
