"""/settings/api-keys/: admins list API keys, make them (the secret is shown once) and
revoke them. Keys are never deleted or edited: a revoked key stays listed as revoked, and
a key with other scopes or another limit is a new key (docs/api.md)."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_tables2 import RequestConfig

from audit.history import history_table
from marketing_os import roles
from marketing_os.access import requires
from marketing_os.api_key_filters import ApiKeyFilter
from marketing_os.api_key_forms import ApiKeyForm
from marketing_os.api_key_tables import ApiKeyTable
from marketing_os.models import ApiKey, save_new_key
from marketing_os.pagination import PAGINATE


@requires(roles.ADD_API_KEY, roles.CHANGE_API_KEY)
def api_key_list(request: HttpRequest) -> HttpResponse:
    filterset = ApiKeyFilter(request.GET, queryset=ApiKey.objects.all())
    table = ApiKeyTable(filterset.qs)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {"filter": filterset, "table": table, "title": "API keys"}
    return render(request, "marketing_os/api_key_list.html", context)


@never_cache  # the answer to the POST holds the secret: no cache may keep it
@requires(roles.ADD_API_KEY)
def api_key_new(request: HttpRequest) -> HttpResponse:
    default_limit = settings.API_RATE_LIMIT_PER_MINUTE
    form = ApiKeyForm(request.POST or None, default_limit=default_limit)
    if request.method == "POST" and form.is_valid():
        key = form.save(commit=False)
        raw = save_new_key(key)
        context = {"key": key, "raw_key": raw, "title": f"API key “{key.name}” created"}
        return render(request, "marketing_os/api_key_created.html", context)
    return render(request, "marketing_os/api_key_form.html", {"form": form, "title": "New API key"})


@requires(roles.ADD_API_KEY, roles.CHANGE_API_KEY)
def api_key_detail(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    context = {"key": key, "title": key.name, "history": history_table(request, key)}
    return render(request, "marketing_os/api_key_detail.html", context)


@requires(roles.CHANGE_API_KEY)
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    if request.method == "POST":
        if key.revoke(now=timezone.now()):
            messages.success(request, f"API key “{key.name}” revoked: it is refused from now on.")
        else:
            messages.info(request, f"API key “{key.name}” was already revoked.")
        return redirect("api_keys:detail", pk=key.pk)
    context = {"key": key, "title": f"Revoke “{key.name}”?"}
    return render(request, "marketing_os/api_key_revoke.html", context)
