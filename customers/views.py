from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_tables2 import RequestConfig

from customers.filters import CustomerFilter
from customers.models import Customer
from customers.panels import PANELS
from customers.tables import AttributeTable, CustomerEventTable, CustomerTable
from marketing_os.pagination import PAGINATE

NO_MATCH = (
    "No customers match this search. Each word must match the start of a word of the "
    "name, email, mobile or LMS lead id: try fewer words, or clear the filters."
)
NO_CUSTOMERS = "No customers yet. Upload a CSV file or send them through the API."


def customer_list(request: HttpRequest) -> HttpResponse:
    filterset = CustomerFilter(request.GET, queryset=Customer.objects.all())
    empty_text = NO_MATCH if filterset.is_searching else NO_CUSTOMERS
    table = CustomerTable(filterset.qs, empty_text=empty_text)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {"filter": filterset, "table": table, "title": "Customers"}
    return render(request, "customers/customer_list.html", context)


def panel_above(panel, request: HttpRequest, customer: Customer) -> str:
    return panel.above(request, customer) if panel.above else ""


def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    attributes = AttributeTable(customer.attributes.all(), prefix="attributes-")
    events = CustomerEventTable(customer.funnel_events.all(), prefix="events-")
    panels = [
        (panel, panel.table(request, customer), panel_above(panel, request, customer))
        for panel in PANELS.values()
    ]
    for table in (attributes, events, *(table for _, table, _ in panels)):
        RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {"customer": customer, "attributes": attributes, "events": events, "panels": panels}
    return render(request, "customers/customer_detail.html", context)
