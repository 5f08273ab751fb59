import django_filters
from django import forms
from django.db.models import QuerySet

from customers.filters import choice_input
from customers.forms import kind_choices
from customers.models import ImportJob


class ImportJobFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="File name",
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )
    kind = choice_input(None, kind_choices, empty_label="Any kind")
    status = choice_input(None, ImportJob.Status.choices, empty_label="Any status")

    class Meta:
        model = ImportJob
        fields = ["q", "kind", "status"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Import jobs number in the thousands, not millions: a scan is fine here.
        return queryset.filter(original_filename__icontains=value.strip())
