from unittest import mock

import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_it_answers_ok_without_a_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_answers_503_naming_the_database_but_not_its_error(client):
    failure = OperationalError('connection to server at "db.internal" failed: password secret')
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=failure):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database unreachable"}
    assert b"secret" not in response.content and b"db.internal" not in response.content


@pytest.mark.django_db
def test_it_refuses_writes(client):
    assert client.post("/healthz").status_code == 405
