import django_filters
from django import forms
from django.db.models import QuerySet

from automations.forms import LabelledChoiceField
from automations.models import Automation, AutomationQuerySet, Delivery
from customers.filters import SearchFilterSet, choice_input, text_input

ACTIVE_CHOICES = [("true", "Active"), ("false", "Inactive")]


class LabelledChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = LabelledChoiceField


class AutomationFilter(SearchFilterSet):
    q = text_input("Search", "Name, segment or template", method="search")
    customer_segment = LabelledChoiceFilter(
        label="Segment",
        empty_label="Any",
        queryset=lambda request: _related("customer_segment"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    message_template = LabelledChoiceFilter(
        label="Template",
        empty_label="Any",
        queryset=lambda request: _related("message_template"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    is_active = choice_input("Status", ACTIVE_CHOICES, method="active")

    class Meta:
        model = Automation
        fields = ["q", "customer_segment", "message_template", "is_active"]

    def search(self, queryset: AutomationQuerySet, name: str, value: str) -> QuerySet:
        return queryset.search(value)

    def active(self, queryset: AutomationQuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "true")


def _related(field: str) -> QuerySet:
    """Only the segments (templates) that some automation uses: a short dropdown."""
    model = Automation._meta.get_field(field).related_model
    return model.objects.filter(automations__isnull=False).distinct().order_by("name")


class DeliveryFilter(django_filters.FilterSet):
    """Search a run's recipients by email (prefix or part), status and delivery feedback."""

    q = django_filters.CharFilter(
        label="Email",
        method="search",
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "Email contains"}),
    )
    status = choice_input(None, Delivery.Status.choices)
    # Resend's feedback; like the email search it scans only this run's rows.
    feedback = choice_input("Delivery", Delivery.Feedback.choices)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A run has at most a segment's worth of rows, found by (run, …) first.
        value = value.strip()
        return queryset.filter(email__icontains=value) if value else queryset
