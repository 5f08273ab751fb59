import django_tables2 as tables
from django.contrib.auth.models import AbstractUser

from marketing_os import roles


class UserTable(tables.Table):
    username = tables.Column(linkify=("users:edit", {"pk": tables.A("pk")}))
    email = tables.Column(default="—")
    role = tables.Column(empty_values=(), orderable=False)
    is_active = tables.BooleanColumn(verbose_name="Active", yesno="yes,no")
    last_login = tables.DateTimeColumn(format="Y-m-d H:i", default="never")

    class Meta:
        fields = ["username", "email", "role", "is_active", "last_login"]
        order_by = "username"
        empty_text = "No users match this search."

    def render_role(self, record: AbstractUser) -> str:
        if record.is_superuser:
            return "superuser"
        role = roles.role_of(record)  # the groups are prefetched
        return role.name if role else "no role"
