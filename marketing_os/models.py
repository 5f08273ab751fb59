import hashlib
import secrets

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

KEY_PREFIX = "mos_"


def hash_key(raw_key: str) -> str:
    """API keys are 256-bit random tokens, so one SHA-256 is enough (no salt or
    stretching is needed for high-entropy secrets, unlike passwords)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)

    def authenticate(self, raw_key: str) -> "ApiKey | None":
        return self.active().filter(key_hash=hash_key(raw_key)).first()

    def revoke(self, *, now) -> int:
        """Revoke the keys not revoked yet; return how many were."""
        return self.active().update(revoked_at=now)

    def find(self, id_or_prefix: str) -> "ApiKey":
        """The one key with this id or prefix; raises DoesNotExist or MultipleObjectsReturned."""
        text = id_or_prefix.strip()
        lookup = models.Q(prefix=text)
        if text.isdigit() and int(text) < 2**63:
            lookup |= models.Q(pk=int(text))
        return self.get(lookup)


class ApiKey(models.Model):
    name = models.TextField()
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_default=Now())
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        db_table = "api_keys"
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, *, now) -> bool:
        """Revoke this key; False if it already was."""
        return bool(ApiKey.objects.filter(pk=self.pk).revoke(now=now))

    def touch(self, *, now) -> None:
        """Record use, at most once a minute so busy keys do not write per request."""
        stale = models.Q(last_used_at__isnull=True) | models.Q(
            last_used_at__lt=now - timezone.timedelta(minutes=1)
        )
        ApiKey.objects.filter(stale, pk=self.pk).update(last_used_at=now)


def create_api_key(name: str) -> tuple[ApiKey, str]:
    """Create a key; return it with the raw secret, which is never stored."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(name=name, prefix=raw[:12], key_hash=hash_key(raw))
    return key, raw


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an `Idempotency-Key`, replayed for 24 h."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    path = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True)
    # Text, not jsonb: a replay must answer byte for byte what the first request got
    # (jsonb reorders object keys).
    response_body = models.TextField(null=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "api_idempotency_records"
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_uniq"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"


class Access(models.Model):
    """No table: the home of permissions that belong to no one model (`marketing_os/roles.py`).

    `view_everything` is reading every page; the roles grant it, so a signed-in user without
    it (no role) sees the 403 page everywhere.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_everything", "Can read every page")]

    def __str__(self) -> str:
        return "access"
