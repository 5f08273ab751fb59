import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.db.models.functions import Now
from django.utils import timezone

KEY_PREFIX = "mos_"


def all_scopes() -> list[str]:
    """A key's scopes unless told otherwise: both (keys made before scopes had both)."""
    return list(ApiKey.Scope.values)


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
        """Revoke the keys not revoked yet, each recorded in the audit trail (by the current
        actor: the request's user, or the command); return how many were."""
        from audit.models import AuditEntry
        from audit.recording import record

        with transaction.atomic():
            keys = list(self.active().select_for_update().order_by("pk"))
            ApiKey.objects.filter(pk__in=[key.pk for key in keys]).update(revoked_at=now)
            for key in keys:
                record(key, action=AuditEntry.Action.REVOKE, now=now)
        return len(keys)

    def find(self, id_or_prefix: str) -> "ApiKey":
        """The one key with this id or prefix; raises DoesNotExist or MultipleObjectsReturned."""
        text = id_or_prefix.strip()
        lookup = models.Q(prefix=text)
        if text.isdigit() and int(text) < 2**63:
            lookup |= models.Q(pk=int(text))
        return self.get(lookup)


class ApiKeyScope(models.TextChoices):
    """What a key may call: `ingest` the POST endpoints, `read` GET /customers/<id>.
    Used as `ApiKey.Scope`; defined out here so the model's Meta can name it too."""

    INGEST = "ingest", "ingest (POST customers, attributes, funnel events)"
    READ = "read", "read (GET a customer)"


class ApiKey(models.Model):
    Scope = ApiKeyScope

    name = models.TextField()
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_default=Now())
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = ArrayField(
        models.CharField(max_length=16, choices=Scope.choices),
        default=all_scopes,
        help_text="ingest: the POST endpoints; read: GET a customer.",
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="rate limit per minute",
        help_text="Requests a minute. Empty: the default (API_RATE_LIMIT_PER_MINUTE); "
        "0: unlimited.",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        db_table = "api_keys"
        verbose_name = "API key"
        constraints = [
            # At least one scope, and only known ones: a key that may call nothing is a mistake.
            models.CheckConstraint(
                condition=models.Q(scopes__len__gt=0)
                & models.Q(scopes__contained_by=ApiKeyScope.values),
                name="api_keys_scopes_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def scopes_display(self) -> str:
        return ", ".join(scope for scope in self.Scope.values if scope in self.scopes)

    @property
    def rate_limit(self) -> int:
        """Requests a minute this key may make; 0 is unlimited."""
        if self.rate_limit_per_minute is None:
            return settings.API_RATE_LIMIT_PER_MINUTE
        return self.rate_limit_per_minute

    @property
    def rate_limit_display(self) -> str:
        limit = self.rate_limit
        text = f"{limit:,}/min" if limit else "unlimited"
        return f"{text} (default)" if self.rate_limit_per_minute is None else text

    def revoke(self, *, now) -> bool:
        """Revoke this key; False if it already was."""
        return bool(ApiKey.objects.filter(pk=self.pk).revoke(now=now))

    def touch(self, *, now) -> None:
        """Record use, at most once a minute so busy keys do not write per request."""
        stale = models.Q(last_used_at__isnull=True) | models.Q(
            last_used_at__lt=now - timezone.timedelta(minutes=1)
        )
        ApiKey.objects.filter(stale, pk=self.pk).update(last_used_at=now)


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_api_key(
    name: str, *, scopes: Iterable[str] | None = None, rate_limit_per_minute: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key (both scopes and the default rate limit unless told); return it with
    the raw secret, which is never stored."""
    key = ApiKey(
        name=name,
        scopes=sorted(set(scopes)) if scopes else all_scopes(),
        rate_limit_per_minute=rate_limit_per_minute,
    )
    return key, save_new_key(key)


def save_new_key(key: ApiKey) -> str:
    """Give an unsaved key its secret and save it; return the raw secret, which is never
    stored (only its hash and prefix are). The creation is recorded in the audit trail."""
    raw = new_secret()
    key.prefix, key.key_hash = raw[:12], hash_key(raw)
    key.save()
    return raw


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


class ApiRateCounter(models.Model):
    """Requests of one key in one minute (`marketing_os.rate_limit`). UNLOGGED (migration
    0007): counters need no crash safety, and an unlogged write skips the WAL."""

    pk = models.CompositePrimaryKey("api_key", "window_start")
    # No index of its own: the primary key (api_key_id, window_start) leads with it.
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, db_index=False)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        db_table = "api_rate_counters"

    def __str__(self) -> str:
        return f"{self.api_key_id} @ {self.window_start:%H:%M}: {self.count}"
