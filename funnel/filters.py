"""Search form of the funnel event list."""

import django_filters
from django import forms
from django.db.models import QuerySet

from customers.filters import DateRangeForm, SearchFilterSet, date_input, text_input
from funnel.models import FunnelEvent

FunnelType = FunnelEvent.FunnelType


class FunnelEventFilter(SearchFilterSet):
    q = text_input("Customer", "Name, email, mobile or LMS lead id", method="search")
    customer = django_filters.NumberFilter(
        field_name="customer_id", min_value=1, widget=forms.HiddenInput
    )
    funnel_type = django_filters.ChoiceFilter(
        label="Funnel",
        choices=FunnelType.choices,
        empty_label="Any funnel",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    from_stage = text_input("From stage", "e.g. lead", method="stage")
    to_stage = text_input("To stage", "e.g. applied", method="stage")
    created_from = date_input("Created from")
    created_to = date_input("Created to")

    class Meta:
        model = FunnelEvent
        fields: list[str] = []
        form = DateRangeForm

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.for_customers_matching(value)

    def stage(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        queryset = queryset.filter(**{name: value.strip()})
        if not self.form.cleaned_data.get("funnel_type"):
            # Naming every funnel lets the (funnel_type, stage, created_date)
            # indexes serve a stage search that did not pick a funnel.
            queryset = queryset.filter(funnel_type__in=FunnelType.values)
        return queryset
