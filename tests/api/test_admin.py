import pytest

from marketing_os.models import ApiKey, create_api_key

pytestmark = pytest.mark.django_db


def test_the_admin_lists_keys_without_their_hash_and_revokes_them(superuser_client):
    key, _ = create_api_key("LMS sync")

    listing = superuser_client.get("/admin/marketing_os/apikey/")
    assert key.prefix in listing.content.decode()
    assert (
        key.key_hash
        not in superuser_client.get(f"/admin/marketing_os/apikey/{key.pk}/change/").content.decode()
    )

    superuser_client.post(
        "/admin/marketing_os/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )

    assert ApiKey.objects.get().revoked_at is not None


def test_the_admin_cannot_add_or_delete_keys(superuser_client):
    key, _ = create_api_key("LMS sync")

    assert superuser_client.get("/admin/marketing_os/apikey/add/").status_code == 403
    assert superuser_client.get(f"/admin/marketing_os/apikey/{key.pk}/delete/").status_code == 403
