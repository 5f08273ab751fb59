"""The /audit/ search: who, which kind of object, which action, between which days."""

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.db.models.functions import Lower

from audit.models import AuditEntry
from audit.registration import AUDITED, type_choices
from customers.filters import (
    DateRangeForm,
    SearchFilterSet,
    choice_input,
    date_input,
    on_or_after,
    on_or_before,
    text_input,
)

RECORDED_ACTIONS = [
    (value, label)
    for value, label in AuditEntry.Action.choices
    if value != AuditEntry.Action.ACCESS
]


class AuditFilter(SearchFilterSet):
    actor = text_input("Who", "A username, or system", method="by_actor")
    type = choice_input("Object type", type_choices, method="by_type")
    object = django_filters.NumberFilter(
        field_name="object_id",
        label="Object id",
        min_value=0,
        max_value=2**63 - 1,
        widget=forms.HiddenInput,
    )
    action = choice_input("Action", RECORDED_ACTIONS)
    created_from = date_input("From", on_or_after, field_name="timestamp")
    created_to = date_input("To", on_or_before, field_name="timestamp")

    class Meta:
        model = AuditEntry
        fields: list[str] = []
        form = DateRangeForm

    def by_actor(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The start of the label, any case: the lower(actor_label) pattern index.
        prefix = value.strip().lower()
        return queryset.alias(actor_lower=Lower("actor_label")).filter(
            actor_lower__startswith=prefix
        )

    def by_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, _, model = value.partition(".")
        if value not in AUDITED:
            return queryset.none()
        content_type = ContentType.objects.get_by_natural_key(app_label, model)  # cached
        return queryset.filter(content_type_id=content_type.pk)
