"""Deleting a segment, template or automation: one confirmation page, one way to refuse.

Each model says why it may not go (`deletion_refusal()`: automations still use the
segment or template; an automation has a send history). The refusal is asked again
inside the deleting transaction, with the row locked, so a use added meanwhile still
refuses; a database PROTECT that fires anyway is reported the same way. The audit trail
records the deletion (django-auditlog's delete signal, in the same transaction).
"""

from django.contrib import messages
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def delete_page(
    request: HttpRequest, obj: models.Model, *, detail_url: str, list_url: str, after: str = ""
) -> HttpResponse:
    """GET: confirm, or say why not; POST: delete and go to the list (`after`: what next)."""
    label = str(obj._meta.verbose_name)
    if request.method == "POST":
        refusal = delete_object(obj)
        if refusal:
            messages.error(request, f"The {label} was not deleted. {refusal}")
            return redirect(detail_url)
        messages.success(request, f"{label.capitalize()} “{obj}” deleted. {after}".strip())
        return redirect(list_url)
    context = {
        "object": obj,
        "label": label,
        "refusal": obj.deletion_refusal(),
        "detail_url": detail_url,
        "title": f"Delete {obj}",
    }
    return render(request, "confirm_delete.html", context)


def delete_object(obj: models.Model) -> str:
    """Delete `obj` unless its model refuses; return the refusal ("" once deleted)."""
    try:
        with transaction.atomic():
            locked = type(obj).objects.select_for_update().filter(pk=obj.pk).first()
            if locked is None:
                return ""  # someone else deleted it first: what was asked for is done
            refusal = locked.deletion_refusal()
            if not refusal:
                locked.delete()
            return refusal
    except (ProtectedError, RestrictedError):
        return obj.deletion_refusal() or "Something still uses it."


def in_use_by_automations(obj: models.Model, doing: str) -> str:
    """The refusal of a segment or template that automations still use ("" if none)."""
    names = list(obj.automations.order_by("name").values_list("name", flat=True)[:6])
    if not names:
        return ""
    shown = ", ".join(f"“{name}”" for name in names[:5]) + (" and more" if len(names) > 5 else "")
    return f"Automations {doing}: {shown}. Point them elsewhere or delete them first."
