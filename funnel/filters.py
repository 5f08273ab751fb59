"""Search form of the funnel event list."""

import django_filters
from django import forms
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet

from customers.filters import (
    DateRangeForm,
    SearchFilterSet,
    choice_input,
    date_input,
    on_or_after,
    on_or_before,
    text_input,
)
from funnel.models import FunnelEvent

FunnelType = FunnelEvent.FunnelType


class FunnelEventFilter(SearchFilterSet):
    q = text_input("Customer", "Name, email, mobile or LMS lead id", method="search")
    customer = django_filters.NumberFilter(
        field_name="customer_id", min_value=1, widget=forms.HiddenInput
    )
    funnel_type = choice_input("Funnel", FunnelType.choices, empty_label="Any funnel")
    from_stage = text_input("From stage", "e.g. lead", method="stage", datalist="known-stages")
    to_stage = text_input("To stage", "e.g. applied", method="stage", datalist="known-stages")
    created_from = date_input("Created from", on_or_after)
    created_to = date_input("Created to", on_or_before)

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


MAX_STAGES = 200
STAGES_CACHE_SECONDS = 300
# A loose index scan: one index probe per distinct stage on the
# (funnel_type, <stage>, created_date) index, instead of reading every event.
DISTINCT_STAGES = """
WITH RECURSIVE stages(stage, n) AS (
    SELECT min({column}), 1 FROM funnel_events WHERE funnel_type = %(funnel)s
  UNION ALL
    SELECT (SELECT min({column}) FROM funnel_events
            WHERE funnel_type = %(funnel)s AND {column} > stages.stage), n + 1
    FROM stages WHERE stages.stage IS NOT NULL AND n < %(limit)s
)
SELECT stage FROM stages WHERE stage IS NOT NULL
"""


def known_stages() -> list[str]:
    """Every stage name in use (from and to, both funnels), cached for a few minutes."""
    stages = cache.get("funnel:known-stages")
    if stages is None:
        stages = sorted(set(distinct_stages()))
        cache.set("funnel:known-stages", stages, STAGES_CACHE_SECONDS)
    return stages


def distinct_stages() -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for funnel in FunnelType.values:
            for column in ("from_stage", "to_stage"):
                params = {"funnel": funnel, "limit": MAX_STAGES}
                cursor.execute(DISTINCT_STAGES.format(column=column), params)
                found += [row[0] for row in cursor.fetchall()]
    return found
