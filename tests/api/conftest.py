import json

import pytest

from marketing_os.models import create_api_key


class Api:
    """Calls the API through Django's test client with a valid key by default."""

    def __init__(self, client, raw_key: str) -> None:
        self.client, self.raw_key = client, raw_key

    def headers(self, key: str | None, extra: dict | None) -> dict:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return headers | (extra or {})

    def post(self, path: str, data=None, *, body=None, key="default", headers=None, **kwargs):
        key = self.raw_key if key == "default" else key
        payload = body if body is not None else json.dumps(data)
        kwargs.setdefault("content_type", "application/json")
        return self.client.post(
            "/api/v1/" + path, data=payload, headers=self.headers(key, headers), **kwargs
        )

    def get(self, path: str, *, key="default", headers=None):
        key = self.raw_key if key == "default" else key
        return self.client.get("/api/v1/" + path, headers=self.headers(key, headers))


@pytest.fixture
def api_key():
    return create_api_key("test upstream")


@pytest.fixture
def api(client, api_key) -> Api:
    return Api(client, api_key[1])
