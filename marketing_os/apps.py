from django.apps import AppConfig


class MarketingOsConfig(AppConfig):
    name = "marketing_os"
    verbose_name = "Marketing OS"

    def ready(self) -> None:
        from audit.registration import track
        from marketing_os import roles
        from marketing_os.models import ApiKey

        # Creation (and any later save) is recorded by auditlog with these fields only: never
        # key_hash, and the raw key is never on the model. Revocation is a QuerySet.update,
        # recorded by ApiKeyQuerySet.revoke as its own action.
        track(
            ApiKey,
            label="API key",
            url_name="api_keys:detail",
            fields=["name", "prefix", "scopes", "rate_limit_per_minute"],
            perms=(roles.ADD_API_KEY, roles.CHANGE_API_KEY),  # as the key's page (admins)
        )
