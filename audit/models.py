"""The audit trail: one append-only table of who did what to which object.

`AuditEntry` is django-auditlog's log entry (AUDITLOG_LOGENTRY_MODEL), so the
creates, changes and deletes of registered models (see `audit.registration`)
are written by auditlog's signal receivers with a field-by-field
`changes = {field: [before, after]}`. The project adds its own actions (runs,
uploads, re-subscribes, erasures; `audit.recording.record`) and
`actor_label`, which names people and the system alike and outlives a
deleted user. A database trigger (migration 0001) refuses UPDATE and DELETE,
except the `actor_id` → NULL that deleting a user makes.
"""

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from audit.actors import current_actor


class AuditEntryQuerySet(models.QuerySet):
    def for_object(self, content_type_id: int, object_id: int) -> "AuditEntryQuerySet":
        return self.filter(content_type_id=content_type_id, object_id=object_id)

    def newest_first(self) -> "AuditEntryQuerySet":
        return self.order_by("-timestamp", "-id")

    def with_object_gone(self) -> "AuditEntryQuerySet":
        """`object_gone`: the trail also records the object's deletion, so it has no page to
        link to (one index probe of `audit_object_idx` per row shown)."""
        deleted = AuditEntry.objects.filter(
            content_type_id=models.OuterRef("content_type_id"),
            object_id=models.OuterRef("object_id"),
            action=AuditEntry.Action.DELETE,
        )
        return self.annotate(object_gone=models.Exists(deleted))


class AuditEntry(AbstractLogEntry):
    class Action(AbstractLogEntry.Action):
        RUN = 10
        UPLOAD = 11
        RESUBSCRIBE = 12
        ERASE = 13
        REVOKE = 14

        choices = (
            (AbstractLogEntry.Action.CREATE, "created"),
            (AbstractLogEntry.Action.UPDATE, "changed"),
            (AbstractLogEntry.Action.DELETE, "deleted"),
            (AbstractLogEntry.Action.ACCESS, "viewed"),  # auditlog's; never recorded here
            (RUN, "started a run"),
            (UPLOAD, "uploaded a file"),
            (RESUBSCRIBE, "re-subscribed"),
            (ERASE, "erased personal data"),
            (REVOKE, "revoked"),
        )

    action = models.PositiveSmallIntegerField(choices=Action.choices, db_index=True)
    actor_label = models.TextField(blank=True, default="")

    objects = LogEntryManager.from_queryset(AuditEntryQuerySet)()

    class Meta(AbstractLogEntry.Meta):
        db_table = "audit_entries"
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        ordering = ["-timestamp", "-id"]
        indexes = [
            # An object's History section, newest first.
            models.Index(
                fields=["content_type", "object_id", "-timestamp", "-id"], name="audit_object_idx"
            ),
            # /audit/, newest first, and filtered by action.
            models.Index(fields=["-timestamp", "-id"], name="audit_newest_idx"),
            models.Index(fields=["action", "-timestamp", "-id"], name="audit_action_idx"),
            # /audit/?actor=… matches the start of the label, case-insensitively.
            models.Index(
                OpClass(Lower("actor_label"), name="text_pattern_ops"), name="audit_actor_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("Audit entries are append-only.")
        if not self.actor_label:
            actor = current_actor()
            self.actor_label = actor.label
            if self.actor_id is None and actor.user is not None:
                self.actor = actor.user
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("audit:entry", args=[self.pk])

    @property
    def details(self) -> dict:
        return self.additional_data if isinstance(self.additional_data, dict) else {}

    @property
    def field_changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) in field order, for edits, creates and deletes."""
        changes = self.changes if isinstance(self.changes, dict) else {}
        return [(name, *pair) for name, pair in changes.items() if len(pair) == 2]
