import django_filters
from django import forms
from django.db.models import Q, QuerySet

from customers.filters import SearchFilterSet, text_input
from marketing_os.models import ApiKey


class ApiKeyFilter(SearchFilterSet):
    q = text_input("Search", "Name or prefix", method="search")
    status = django_filters.ChoiceFilter(
        label="Status",
        choices=[("active", "Active"), ("revoked", "Revoked")],
        empty_label="Any",
        method="by_status",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = ApiKey
        fields = ["q", "status"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A few dozen keys, not millions: a scan is fine.
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(prefix__startswith=value))

    def by_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(revoked_at__isnull=value == "active")
