import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from marketing_os.models import ApiKey, create_api_key, hash_key

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_key_prints_the_key_alone_on_the_last_line_and_stores_its_hash(api):
    output = run("create_api_key", "LMS sync")

    raw = output.strip().splitlines()[-1]
    key = ApiKey.objects.get(name="LMS sync")
    assert key.key_hash == hash_key(raw)
    assert raw not in (key.name, key.prefix, key.key_hash)
    response = api.post("customers", {"lms_lead_id": "L-1"}, key=raw)
    assert response.status_code == 200


def test_list_api_keys_shows_name_prefix_and_dates(api):
    key, _ = create_api_key("CRM bridge")
    api.post("customers", {"lms_lead_id": "L-1"})  # the fixture's key: now used

    output = run("list_api_keys")

    assert "last used" in output.splitlines()[0]
    line = next(line for line in output.splitlines() if "CRM bridge" in line)
    assert key.prefix in line and line.rstrip().endswith("-")
    used = next(line for line in output.splitlines() if "test upstream" in line)
    assert "UTC" in used.split(api.raw_key[:12])[1]


@pytest.mark.parametrize("by", ["id", "prefix"])
def test_revoke_api_key_finds_the_key_by_id_or_prefix_and_revokes_it(api, api_key, by):
    key = api_key[0]

    output = run("revoke_api_key", str(key.pk) if by == "id" else key.prefix)

    assert "Revoked" in output
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api.post("customers", {"lms_lead_id": "L-1"}).status_code == 401


def test_revoke_api_key_fails_clearly_for_an_unknown_key():
    with pytest.raises(CommandError, match="No API key has id or prefix 'mos_nope'"):
        run("revoke_api_key", "mos_nope")


def test_revoking_a_revoked_key_says_so_and_keeps_the_first_date(api_key):
    run("revoke_api_key", str(api_key[0].pk))
    first = ApiKey.objects.get().revoked_at

    output = run("revoke_api_key", str(api_key[0].pk))

    assert "already revoked" in output
    assert ApiKey.objects.get().revoked_at == first
