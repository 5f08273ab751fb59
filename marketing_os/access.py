"""Who may open what: the role check on every page, `requires` on every write, the 403 page.

`RoleMiddleware` (after LoginRequiredMiddleware) refuses every page to a signed-in user
without `view_everything` — someone with no role yet. Views that need no login (login,
healthz, unsubscribe, the API, the Resend webhook) and logout are left alone. Write views
say what they need with `@requires(permission)`; a refusal is `RoleRequired`, which the 403
handler (`marketing_os.api.permission_denied`) turns into a page naming the role needed.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin

from marketing_os import roles

View = Callable[..., HttpResponse]


class RoleRequired(PermissionDenied):
    """The signed-in user lacks `permission` (the first of those that would do)."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"This needs the permission {permission}.")
        self.permission = permission


def requires(*permissions: str) -> Callable[[View], View]:
    """Let the view run only for users holding one of `permissions`; else 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(permission) for permission in permissions):
                raise RoleRequired(permissions[0])
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def no_role_required(view: View) -> View:
    """Mark a view a signed-in user without a role may still open (logout)."""
    view.role_required = False
    return view


class RoleMiddleware(MiddlewareMixin):
    def process_view(
        self, request: HttpRequest, view_func: View, view_args: tuple, view_kwargs: dict
    ) -> None:
        if not request.user.is_authenticated:
            return  # LoginRequiredMiddleware has sent them to log in, or the view is public
        if not getattr(view_func, "login_required", True):
            return
        if not getattr(view_func, "role_required", True):
            return
        if not request.user.has_perm(roles.VIEW_EVERYTHING):
            raise RoleRequired(roles.VIEW_EVERYTHING)


def denied_page(request: HttpRequest, exception: Exception | None) -> HttpResponse:
    """The 403 page for people: what was refused and which role may do it."""
    user = getattr(request, "user", None)  # absent when a middleware before auth refused
    permission = getattr(exception, "permission", None)
    context = {
        "title": "Not allowed",
        "your_role": roles.role_of(user) if user and user.is_authenticated else None,
        "needed": roles.lowest_role_with(permission) if permission else None,
        "action": roles.ACTIONS.get(permission or "", ""),
        "no_role": permission == roles.VIEW_EVERYTHING,
        "reason": "" if permission or exception is None else str(exception),
        "roles": roles.ROLES,
    }
    return render(request, "403.html", context, status=403)
