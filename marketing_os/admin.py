from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from marketing_os.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made on /settings/api-keys/ or with `manage.py create_api_key` (the secret is
    shown once, there);
    here they can be seen and revoked, never edited or deleted (deleting would lose
    the record of who called)."""

    list_display = [
        "name",
        "prefix",
        "scopes",
        "rate_limit_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    ordering = ["-created_at"]
    readonly_fields = [
        "name",
        "prefix",
        "scopes",
        "rate_limit_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.revoke(now=timezone.now())
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
