from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_tables2 import RequestConfig

from customers.models import Customer
from funnel.filters import FunnelEventFilter, known_stages
from funnel.models import FunnelEvent
from funnel.tables import FunnelEventTable
from marketing_os.pagination import PAGINATE

NO_MATCH = (
    "No funnel events match this search. Stages must be typed exactly; the customer "
    "search matches the start of words of the name, email, mobile or LMS lead id."
)
NO_EVENTS = "No funnel events yet. Upload a CSV file or send them through the API."


def event_list(request: HttpRequest) -> HttpResponse:
    events = FunnelEvent.objects.select_related("customer")
    filterset = FunnelEventFilter(request.GET, queryset=events)
    empty_text = NO_MATCH if filterset.is_searching else NO_EVENTS
    table = FunnelEventTable(filterset.qs, empty_text=empty_text)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    context = {
        "filter": filterset,
        "table": table,
        "title": "Funnel events",
        "customer": filtered_customer(filterset),
        "stages": known_stages(),
    }
    return render(request, "funnel/event_list.html", context)


def filtered_customer(filterset: FunnelEventFilter) -> Customer | None:
    """The customer the list is narrowed to (`?customer=<id>`), for the page to name."""
    pk = filterset.form.cleaned_data.get("customer") if filterset.is_searching else None
    return Customer.objects.filter(pk=pk).first() if pk else None


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(FunnelEvent.objects.select_related("customer"), pk=pk)
    return render(request, "funnel/event_detail.html", {"event": event})
