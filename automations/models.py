import hashlib
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from automations.crontab_block import Entry
from automations.scheduling import CronError, describe_cron, next_runs


class AutomationQuerySet(models.QuerySet):
    def search(self, q: str) -> "AutomationQuerySet":
        """Every word in the automation's, its segment's or its template's name.

        Automations number in the hundreds at most: ILIKE over three short
        names is cheaper than keeping a search index up to date.
        """
        for word in q.split():
            self = self.filter(
                models.Q(name__icontains=word)
                | models.Q(customer_segment__name__icontains=word)
                | models.Q(message_template__name__icontains=word)
            )
        return self

    def crontab_data(self) -> Iterator[dict]:
        """What `get_automation_data` prints: one dict per automation, by id."""
        rows = self.order_by("id").values_list(
            "id", "cron", "is_active", "name", "customer_segment__name", "message_template__name"
        )
        for pk, cron, is_active, name, segment, template in rows.iterator():
            yield {
                "id": pk,
                "cron": cron,
                "is_active": is_active,
                "name": name,
                "segment_name": segment,
                "template_name": template,
            }


class SendPolicy(models.TextChoices):
    EVERY_RUN = "every_run", "Every run"
    ONCE_PER_CUSTOMER = "once_per_customer", "Once per customer"


class Automation(models.Model):
    """Send a message template to a customer segment on a cron schedule."""

    name = models.TextField(unique=True)
    description = models.TextField(blank=True, default="")
    customer_segment = models.ForeignKey(
        "segments.CustomerSegment", on_delete=models.PROTECT, related_name="automations"
    )
    message_template = models.ForeignKey(
        "templates_app.MessageTemplate", on_delete=models.PROTECT, related_name="automations"
    )
    cron = models.TextField(help_text="Five-field cron expression, in the server's time zone.")
    is_active = models.BooleanField(default=True, db_default=True)
    send_policy = models.TextField(
        choices=SendPolicy.choices,
        default=SendPolicy.EVERY_RUN,
        db_default=SendPolicy.EVERY_RUN,
        help_text="Once per customer: skip customers this automation ever sent to.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_date = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_date = models.DateTimeField(auto_now=True, db_default=Now())

    objects = AutomationQuerySet.as_manager()

    class Meta:
        db_table = "automations"
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["is_active", "name"], name="automations_active_name")]
        permissions = [("run_automation", "Can start a run now (the automation page's button)")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("automations:detail", args=[self.pk])

    def deletion_refusal(self) -> str:
        """Why this automation may not be deleted ("" if it may): its runs and their
        deliveries are the record of what each customer was sent."""
        runs = self.runs.count()
        if not runs:
            return ""
        return (
            f"It has {runs:,} run{'s' if runs > 1 else ''}, the record of what each customer "
            "was sent. Deactivate it instead: edit it and clear Active."
        )

    @property
    def schedule_text(self) -> str:
        try:
            return describe_cron(self.cron)
        except CronError as error:
            return f"Invalid schedule: {error}"

    def next_runs(self, *, now: datetime | None = None, count: int = 5) -> list:
        """The next run times in the server's time zone ([] when inactive or invalid)."""
        if not self.is_active:
            return []
        try:
            return next_runs(self.cron, now=now or timezone.now(), count=count)
        except CronError:
            return []

    def crontab_entry(self) -> Entry:
        return Entry(self.pk, self.cron, self.is_active, self.name)


# -- Sending: runs and their outbox -------------------------------------------------------------


class Run(models.Model):
    """One execution of an automation: counts, outcome, and who ran it."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"  # or died part-way: the next invocation resumes it
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    UNFINISHED = (Status.RUNNING,)

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    slot = models.DateTimeField(null=True, blank=True)  # None: --now, "Run now" or refused
    status = models.TextField(choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    host = models.TextField(blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    # The template as it was when the run started: a resumed run must send the
    # very same bodies under the same idempotency keys.
    template_type = models.TextField(blank=True, default="")
    subject = models.TextField(blank=True, default="")
    message = models.TextField(blank=True, default="")
    outbox_ready = models.BooleanField(default=False)
    members = models.PositiveIntegerField(default=0)
    skipped_no_email = models.PositiveIntegerField(default=0)
    skipped_invalid_email = models.PositiveIntegerField(default=0)
    skipped_unsubscribed = models.PositiveIntegerField(default=0)
    skipped_already_sent = models.PositiveIntegerField(default=0)
    to_send = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "automation_runs"
        ordering = ["-started_at", "-id"]
        constraints = [
            # Two hosts running the same crontab cannot both run one slot.
            models.UniqueConstraint(
                fields=["automation", "slot"], name="automation_runs_one_per_slot"
            )
        ]
        indexes = [
            models.Index(
                fields=["automation", "-started_at", "-id"], name="automation_runs_history"
            ),
            models.Index(
                fields=["automation"],
                name="automation_runs_unfinished",
                condition=models.Q(status="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.automation_id}"

    def get_absolute_url(self) -> str:
        return reverse("automations:run_detail", args=[self.automation_id, self.pk])

    @property
    def skipped(self) -> int:
        return (
            self.skipped_no_email
            + self.skipped_invalid_email
            + self.skipped_unsubscribed
            + self.skipped_already_sent
        )

    @property
    def done_count(self) -> int:
        return self.accepted + self.failed

    @property
    def duration(self):
        return (self.finished_at or timezone.now()) - self.started_at


class Batch(models.Model):
    """Up to 100 deliveries sent in one call, under one idempotency key for life."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        HELD = "held", "Held for an operator"  # the idempotency window is over

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    idempotency_key = models.TextField()
    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    first_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "automation_batches"
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="automation_batches_number"),
            models.UniqueConstraint(fields=["idempotency_key"], name="automation_batches_key"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class Delivery(models.Model):
    """One recipient of one run: the outbox row and, once sent, its outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    class SkipReason(models.TextChoices):
        NO_EMAIL = "no_email", "No email"
        INVALID_EMAIL = "invalid_email", "Invalid email"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        ALREADY_SENT = "already_sent", "Already sent once"

    class Feedback(models.TextChoices):
        # In the order a later event may overwrite an earlier one (see webhooks.RANK).
        SENT = "sent", "Sent"
        DELAYED = "delivery_delayed", "Delivery delayed"
        DELIVERED = "delivered", "Delivered"
        SOFT_BOUNCED = "soft_bounced", "Soft bounce"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="deliveries")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="deliveries"
    )
    email = models.TextField(blank=True, default="")  # the address used, as it was
    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    skip_reason = models.TextField(choices=SkipReason.choices, blank=True, default="")
    batch_number = models.PositiveIntegerField(null=True, blank=True)
    resend_id = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    # Delivery feedback from Resend's webhook (automations.webhooks).
    feedback = models.TextField(choices=Feedback.choices, blank=True, default="", db_default="")
    feedback_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)  # first open
    clicked_at = models.DateTimeField(null=True, blank=True)  # first click

    class Meta:
        db_table = "automation_deliveries"
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="automation_deliveries_once")
        ]
        indexes = [
            models.Index(fields=["run", "batch_number"], name="automation_deliveries_batch"),
            models.Index(fields=["run", "status", "id"], name="automation_deliveries_status"),
            models.Index(fields=["customer", "-id"], name="automation_deliveries_customer"),
            models.Index(
                fields=["resend_id"],
                name="automation_deliveries_resend",
                condition=~models.Q(resend_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email or 'no email'} in run {self.run_id}"


def erased_address_key(email: str) -> str:
    """How an erased person's address stays suppressed: its SHA-256, never the address.

    The sender computes the same in SQL (`runs.CLASSIFIED`) for each recipient.
    """
    return ERASED_KEY_PREFIX + hashlib.sha256(email.strip().lower().encode()).hexdigest()


ERASED_KEY_PREFIX = "sha256:"


class SuppressionQuerySet(models.QuerySet):
    def for_address(self, email: str | None) -> "SuppressionQuerySet":
        """The suppression of this address, kept plain or (after an erasure) as a hash."""
        address = (email or "").strip().lower()
        if not address:
            return self.none()
        return self.filter(email__in=[address, erased_address_key(address)])


class Suppression(models.Model):
    """Addresses never sent to: unsubscribed, hard-bounced, complained, or erased.

    Keyed by the lower-cased address (what the sender compares), or for an
    erased person by `erased_address_key` of it; `customer` is whom the
    address belonged to when it was suppressed, for the customer page.
    """

    class Source(models.TextChoices):
        LINK = "link", "Unsubscribe link"
        ONE_CLICK = "one_click", "One-click unsubscribe (mail client)"
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        ERASURE = "erasure", "Personal data erased"
        OTHER = "other", "Other"

    email = models.TextField(unique=True)  # stored lower-case
    reason = models.TextField(choices=Source.choices, blank=True, default="")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suppressions",
    )
    created_date = models.DateTimeField(auto_now_add=True)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        db_table = "email_suppressions"
        indexes = [models.Index(fields=["customer"], name="email_suppressions_customer")]
        permissions = [("resubscribe_customer", "Can re-subscribe an unsubscribed customer")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_erased_address(self) -> bool:
        return self.email.startswith(ERASED_KEY_PREFIX)


class SubscriptionChange(models.Model):
    """Every unsubscribe and re-subscribe: when, how, by whom and why (the customer page)."""

    class Action(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        RESUBSCRIBED = "resubscribed", "Re-subscribed"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="subscription_changes"
    )
    email = models.TextField()
    action = models.TextField(choices=Action.choices)
    source = models.TextField(choices=Suppression.Source.choices, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "subscription_changes"
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "-changed_at", "-id"], name="subscription_changes_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} {self.action} at {self.changed_at}"


class DeliveryEvent(models.Model):
    """One Resend webhook call, as received (unique on its svix-id: replays change nothing)."""

    svix_id = models.TextField(unique=True)
    type = models.TextField()  # e.g. "email.delivered"
    resend_id = models.TextField(blank=True, default="")
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    occurred_at = models.DateTimeField(null=True, blank=True)  # Resend's created_at
    received_at = models.DateTimeField()
    payload = models.JSONField()

    class Meta:
        db_table = "delivery_events"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["delivery", "id"], name="delivery_events_delivery"),
            models.Index(fields=["resend_id"], name="delivery_events_resend_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.resend_id or 'unknown email'}"

    @property
    def label(self) -> str:
        """ "email.delivery_delayed" → "delivery delayed"."""
        return self.type.removeprefix("email.").replace("_", " ")
