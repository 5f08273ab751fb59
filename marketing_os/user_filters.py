from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from customers.filters import SearchFilterSet, choice_input, text_input
from marketing_os import roles

SUPERUSER = "superuser"
NONE = "none"
ROLE_CHOICES = [
    *((role.name, role.name) for role in roles.ROLES),
    (SUPERUSER, "superuser"),
    (NONE, "no role"),
]


class UserFilter(SearchFilterSet):
    q = text_input("Search", "Username or email", method="search")
    role = choice_input("Role", ROLE_CHOICES, method="role_filter")
    is_active = choice_input("Status", [("true", "Active"), ("false", "Inactive")], method="active")

    class Meta:
        model = get_user_model()
        fields = ["q", "role", "is_active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Tens of users, not millions: a scan is fine.
        value = value.strip()
        return queryset.filter(Q(username__icontains=value) | Q(email__icontains=value))

    def role_filter(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == SUPERUSER:
            return queryset.filter(is_superuser=True)
        if value == NONE:
            with_role = Q(groups__name__in=roles.BY_NAME) | Q(is_superuser=True)
            return queryset.exclude(pk__in=queryset.filter(with_role).values("pk"))
        # The role itself, not a higher one held as well (the table shows the highest).
        higher = roles.ROLES[roles.ROLES.index(roles.BY_NAME[value]) + 1 :]
        return queryset.filter(groups__name=value, is_superuser=False).exclude(
            groups__name__in=[role.name for role in higher]
        )

    def active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "true")
