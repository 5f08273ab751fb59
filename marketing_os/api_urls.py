"""Routes under /api/v1/. Anything else under /api/ is a JSON 404 (see urls.py)."""

from django.urls import path

from customers import api as customers_api
from funnel import api as funnel_api
from marketing_os import api_docs, openapi

app_name = "api"
urlpatterns = [
    path("customers", customers_api.customers_upsert, name="customers"),
    path("customers/<path:lms_lead_id>", customers_api.customer_detail, name="customer"),
    path("customer-attributes", customers_api.attributes_upsert, name="customer-attributes"),
    path("funnel-events", funnel_api.events_create, name="funnel-events"),
    path("openapi.json", openapi.openapi_json, name="openapi"),
    path("docs", api_docs.api_docs, name="docs"),
]
