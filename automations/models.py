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

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("automations:detail", args=[self.pk])

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
