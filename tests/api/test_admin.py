import pytest

from marketing_os.models import ApiKey, create_api_key

pytestmark = pytest.mark.django_db


def test_the_admin_lists_keys_without_their_hash_and_revokes_them(admin_client):
    key, _ = create_api_key("LMS sync")

    listing = admin_client.get("/admin/marketing_os/apikey/")
    assert key.prefix in listing.content.decode()
    assert (
        key.key_hash
        not in admin_client.get(f"/admin/marketing_os/apikey/{key.pk}/change/").content.decode()
    )

    admin_client.post(
        "/admin/marketing_os/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )

    assert ApiKey.objects.get().revoked_at is not None


def test_the_admin_cannot_add_or_delete_keys(admin_client):
    key, _ = create_api_key("LMS sync")

    assert admin_client.get("/admin/marketing_os/apikey/add/").status_code == 403
    assert admin_client.get(f"/admin/marketing_os/apikey/{key.pk}/delete/").status_code == 403
