from django.db import models
from django.db.models.functions import Now

from customers.models import Customer


class FunnelEventQuerySet(models.QuerySet):
    def for_customers_matching(self, q: str) -> "FunnelEventQuerySet":
        """Events of customers found by the customer free-text search."""
        return self.filter(customer__in=Customer.objects.search(q).values("pk"))


class FunnelEvent(models.Model):
    """A customer moving from one stage of a funnel to another. Immutable:
    a database trigger (migration 0002) refuses UPDATE and DELETE."""

    class FunnelType(models.TextChoices):
        SALES = "sales", "Sales"
        SERVICE_DELIVERY = "service-delivery", "Service delivery"

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="funnel_events", db_index=False
    )
    funnel_type = models.TextField(choices=FunnelType.choices)
    from_stage = models.TextField(null=True, blank=True)
    to_stage = models.TextField()
    created_date = models.DateTimeField(db_default=Now())

    objects = FunnelEventQuerySet.as_manager()

    class Meta:
        db_table = "funnel_events"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(funnel_type__in=["sales", "service-delivery"]),
                name="funnel_events_funnel_type_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "created_date"], name="funnel_events_customer_idx"),
            models.Index(fields=["created_date"], name="funnel_events_created_idx"),
            models.Index(
                fields=["funnel_type", "to_stage", "created_date"],
                name="funnel_events_to_stage_idx",
            ),
            models.Index(
                fields=["funnel_type", "from_stage", "created_date"],
                name="funnel_events_from_stage_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.funnel_type}: {self.from_stage or '∅'} → {self.to_stage}"
