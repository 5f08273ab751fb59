"""/settings/users/: admins list users, create them, and set their role and active flag.

Superusers (createsuperuser) have every permission whatever their groups; this page shows
them but does not change them — that is for Django's admin at /admin/.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from marketing_os import lockout, roles
from marketing_os.access import requires
from marketing_os.pagination import PAGINATE
from marketing_os.user_filters import UserFilter
from marketing_os.user_forms import UserAccessForm, UserCreateForm
from marketing_os.user_tables import UserTable

SUPERUSER_NOTE = (
    "This account is a superuser: it may do everything, whatever its role. Superusers are "
    "changed in Django's admin (/admin/) by another superuser, not on this page."
)


@requires(roles.VIEW_USER)
def user_list(request: HttpRequest) -> HttpResponse:
    role_groups = Group.objects.filter(name__in=roles.BY_NAME)
    users = get_user_model().objects.prefetch_related(Prefetch("groups", queryset=role_groups))
    filterset = UserFilter(request.GET, queryset=users)
    table = UserTable(filterset.qs)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {"filter": filterset, "table": table, "title": "Users", "roles": roles.ROLES}
    return render(request, "marketing_os/user_list.html", context)


@requires(roles.ADD_USER)
def user_new(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = roles.save_user(form, role=form.cleaned_data["role"])
        messages.success(request, f"User “{account.username}” created.")
        return redirect("users:list")
    return render(request, "marketing_os/user_form.html", {"form": form, "title": "New user"})


@requires(roles.CHANGE_USER)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(get_user_model(), pk=pk)
    context = {
        "account": account,
        "title": account.username,
        "lockouts": lockout.lockouts_of(account.username, now=timezone.now()),
    }
    if account.is_superuser:
        if request.method == "POST":
            raise PermissionDenied(SUPERUSER_NOTE)
        return render(request, "marketing_os/user_form.html", context | {"note": SUPERUSER_NOTE})
    form = UserAccessForm(request.POST or None, instance=account, editor=request.user)
    if request.method == "POST" and form.is_valid():
        roles.save_user(form, role=form.cleaned_data["role"])
        messages.success(request, f"User “{account.username}” saved.")
        return redirect("users:list")
    return render(request, "marketing_os/user_form.html", context | {"form": form})


@requires(roles.CHANGE_USER)
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift the account's login lockout at once (`axes_reset_username`, on the page)."""
    account = get_object_or_404(get_user_model(), pk=pk)
    if account.is_superuser and not request.user.is_superuser:
        raise PermissionDenied(SUPERUSER_NOTE)
    if lockout.unlock(account.username):
        messages.success(request, f"“{account.username}” may log in again.")
    else:
        messages.info(request, f"“{account.username}” was not locked out.")
    return redirect("users:edit", pk=account.pk)
