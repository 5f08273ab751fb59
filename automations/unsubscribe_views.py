"""The public unsubscribe page (no login) and the customer page's re-subscribe form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from automations.forms import ResubscribeForm
from automations.models import Suppression
from automations.tables import SubscriptionChangeTable
from automations.unsubscribe import (
    BadToken,
    is_unsubscribed,
    mask_email,
    read_token,
    resubscribe,
    unsubscribe,
)
from customers.models import Customer
from marketing_os import roles
from marketing_os.access import requires

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


@login_not_required
@never_cache  # per-recipient state: no shared cache may keep it
@csrf_exempt  # RFC 8058: a mail client's one-click POST has no cookie and no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET: confirm with one button. POST (the button or a mail client): unsubscribe now."""
    try:
        customer = Customer.objects.get(pk=read_token(token))
    except (BadToken, Customer.DoesNotExist):
        return render(request, "automations/unsubscribe_invalid.html", status=400)
    context = {"masked": mask_email(customer.email), "title": "Unsubscribe"}
    if request.method == "GET":
        context["done"] = is_unsubscribed(customer)
        return render(request, "automations/unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    source = Suppression.Source.ONE_CLICK if one_click else Suppression.Source.LINK
    unsubscribe(customer, source=source, now=timezone.now())
    return render(request, "automations/unsubscribe.html", context | {"done": True})


def subscription_table(request: HttpRequest, customer: Customer) -> SubscriptionChangeTable:
    """The customer page's "Email subscription" panel: every change, newest first."""
    changes = customer.subscription_changes.select_related("changed_by").order_by(
        "-changed_at", "-id"
    )
    return SubscriptionChangeTable(changes, prefix="subscription-")


def subscription_status(request: HttpRequest, customer: Customer) -> str:
    """Above that table: whether the address is suppressed, since when and why; the form."""
    suppression = Suppression.objects.for_address(customer.email).first()
    context = {"customer": customer, "suppression": suppression, "form": ResubscribeForm()}
    return render_to_string("automations/subscription_status.html", context, request=request)


@requires(roles.RESUBSCRIBE_CUSTOMER)
@require_POST
def customer_resubscribe(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = ResubscribeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why this customer is being re-subscribed.")
    elif resubscribe(
        customer, user=request.user, reason=form.cleaned_data["reason"], now=timezone.now()
    ):
        messages.success(request, f"{customer.email} will receive messages again.")
    else:
        messages.info(request, "This customer was not unsubscribed.")
    return redirect("customers:detail", pk=customer.pk)
