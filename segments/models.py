from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from customers.models import Customer
from marketing_os.deleting import in_use_by_automations


class CustomerSegment(models.Model):
    """A named set of customers: a manual list, a SQL query, or a registered handler.

    The `last_*` columns record the latest evaluation (see `segments.evaluation`);
    `definition_changed_date` tells a stored evaluation from a stale one.
    """

    class Type(models.TextChoices):
        MANUAL = "manual", "Manual list"
        SQL = "sql", "SQL query"
        FUNCTION = "function", "Handler function"

    id = models.BigAutoField(primary_key=True)
    name = models.TextField(unique=True)
    type = models.TextField(choices=Type.choices, default=Type.MANUAL)
    selection_sql = models.TextField(null=True, blank=True)
    handler_function = models.TextField(null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_date = models.DateTimeField(db_default=Now())
    updated_date = models.DateTimeField(db_default=Now(), db_index=True)
    definition_changed_date = models.DateTimeField(db_default=Now())
    last_count = models.BigIntegerField(null=True, blank=True)
    last_evaluated_date = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.IntegerField(null=True, blank=True)
    # Which generation of `SegmentMember` rows is current (see SegmentMember).
    members_generation = models.BigIntegerField(default=0)

    class Meta:
        db_table = "customer_segments"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=["manual", "sql", "function"]),
                name="customer_segments_type_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["type", "name"], name="customer_segments_type_idx"),
            models.Index(fields=["last_count"], name="customer_segments_count_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def deletion_refusal(self) -> str:
        """Why this segment may not be deleted ("" if it may)."""
        return in_use_by_automations(self, "send to this segment")

    def is_evaluation_fresh(self, *, now: datetime, max_age: timedelta) -> bool:
        """Whether the stored members still answer for the current definition."""
        evaluated = self.last_evaluated_date
        return (
            evaluated is not None
            and evaluated >= self.definition_changed_date
            and now - evaluated < max_age
        )


class CustomerSegmentCustomer(models.Model):
    """One member of a manual segment (contract table)."""

    id = models.BigAutoField(primary_key=True)
    customer_segment = models.ForeignKey(
        CustomerSegment, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "customer_segment_customer_list"
        constraints = [
            models.UniqueConstraint(
                fields=["customer_segment", "customer"], name="segment_customer_list_pair_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"segment {self.customer_segment_id}: customer {self.customer_id}"


class SegmentMember(models.Model):
    """The latest evaluated members of a SQL or function segment.

    A cache written set-wise by `segments.evaluation`, so pages and the sender
    read a lazy join instead of re-running a marketer's SQL per page. Each
    evaluation writes a new `generation` and then deletes the older ones:
    re-inserting the keys just deleted would make every insert check dead index
    entries (seconds for 100k rows). No database-level foreign keys either:
    checking 300k rows one trigger at a time would double the write; customers
    that disappear drop out in the join to `customers`, and Django's CASCADE
    still removes the rows with their segment. The table is UNLOGGED (a
    cache need not be written twice): after a server crash PostgreSQL empties
    it, and evaluations older than the server's start count as stale.
    """

    pk = models.CompositePrimaryKey("segment_id", "generation", "customer_id")
    segment = models.ForeignKey(
        CustomerSegment,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the primary key leads with segment_id
    )
    generation = models.BigIntegerField()
    customer = models.ForeignKey(
        Customer,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,  # members are only ever looked up by segment
    )
    # 1-based rank in the customers page's default order (newest first: created_date
    # DESC, id DESC) when the generation was written, so page N of that order is a
    # range of this index whatever N is, instead of walking N pages of customers.
    # Indexed descending: rows are written oldest first (segments.evaluation).
    position = models.IntegerField()

    class Meta:
        db_table = "customer_segment_members"
        indexes = [
            models.Index(
                fields=["segment", "generation", "-position"], name="segment_members_position_idx"
            )
        ]

    def __str__(self) -> str:
        return f"segment {self.segment_id}: customer {self.customer_id}"


class MemberUpload(models.Model):
    """One CSV upload into a manual segment's list, kept as its history."""

    class Mode(models.TextChoices):
        REPLACE = "replace", "Replace the list"
        ADD = "add", "Add to the list"

    id = models.BigAutoField(primary_key=True)
    segment = models.ForeignKey(CustomerSegment, on_delete=models.CASCADE, related_name="uploads")
    file_name = models.TextField()
    mode = models.TextField(choices=Mode.choices)
    key_column = models.TextField()
    lines = models.IntegerField(default=0)
    added = models.IntegerField(default=0)
    unmatched_count = models.IntegerField(default=0)
    # First unmatched lines as [[line, value], …]; the count above is complete.
    unmatched = models.JSONField(default=list)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_date = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "customer_segment_uploads"
        indexes = [models.Index(fields=["segment", "-created_date"], name="segment_uploads_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_mode_display()})"
