from django.db.models import Q, QuerySet

from customers.filters import SearchFilterSet, choice_input, text_input
from marketing_os.models import ApiKey


class ApiKeyFilter(SearchFilterSet):
    q = text_input("Search", "Name or prefix", method="search")
    status = choice_input(
        "Status", [("active", "Active"), ("revoked", "Revoked")], method="by_status"
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
