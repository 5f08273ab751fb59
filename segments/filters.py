import django_filters
from django import forms
from django.db.models import Q, QuerySet

from customers.filters import choice_input
from segments.models import CustomerSegment


class SegmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "Segment name"}),
    )
    type = choice_input("Type", CustomerSegment.Type.choices, empty_label="Any type")

    class Meta:
        model = CustomerSegment
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Segments number in the hundreds, not millions: a substring scan is fine.
        words = value.split()
        for word in words:
            queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word))
        return queryset
