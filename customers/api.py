"""JSON endpoints for customers and their attributes (CONTRACT §4).

Thin: the plumbing (auth, parsing, limits, idempotency) is `ingest_endpoint`'s,
the rules are `customers.ingest`'s.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from customers.ingest import Invalid, clean_text, ingest_attributes, ingest_customers
from customers.models import Customer
from marketing_os.api import ApiError, api_endpoint, authenticate, ingest_endpoint, item_errors
from marketing_os.models import ApiKey


@ingest_endpoint
def customers_upsert(request: HttpRequest, items: list) -> HttpResponse:
    result = ingest_customers(items, now=timezone.now())
    if result.errors:
        return item_errors(result.errors)
    return JsonResponse(
        {"created": result.created, "updated": result.updated, "results": result.results}
    )


@ingest_endpoint
def attributes_upsert(request: HttpRequest, items: list) -> HttpResponse:
    result = ingest_attributes(items, now=timezone.now())
    if result.errors:
        return item_errors(result.errors)
    return JsonResponse({"created": result.created, "updated": result.updated})


@api_endpoint("GET", "HEAD")
def customer_detail(request: HttpRequest, lms_lead_id: str) -> HttpResponse:
    """One customer by `lms_lead_id`, with its attributes."""
    authenticate(request, now=timezone.now(), scope=ApiKey.Scope.READ)
    try:
        lms_lead_id = clean_text(lms_lead_id, "lms_lead_id", required=True)
    except Invalid:  # e.g. a NUL character, which PostgreSQL text cannot hold
        customer = None
    else:
        customer = Customer.objects.filter(lms_lead_id=lms_lead_id).first()
    if customer is None:
        raise ApiError(404, "not_found", f"No customer has lms_lead_id {lms_lead_id!r}.")
    return JsonResponse(customer_as_json(customer))


def customer_as_json(customer: Customer) -> dict:
    attributes = customer.attributes.order_by("field_name")
    return {
        "id": customer.pk,
        "lms_lead_id": customer.lms_lead_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "mobile": customer.mobile,
        "created_date": customer.created_date,
        "updated_date": customer.updated_date,
        "attributes": [
            {"field_name": a.field_name, "field_type": a.field_type, "field_value": a.field_value}
            for a in attributes
        ],
    }
