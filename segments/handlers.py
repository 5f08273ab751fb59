"""Function segments: a registry of handler functions written in code.

A handler takes the evaluation time (`now`, keyword-only) and returns customer
ids: a QuerySet of ids (run set-wise in the database, never loaded into
Python) or any iterable of integers. Only names registered here can be saved
on a segment or invoked; what a user types is looked up in the registry, never
imported.

    @handler("vip", description="Customers with the vip attribute set to true")
    def vip(*, now):
        return CustomerAttribute.objects.filter(field_name="vip", field_value=True)
                                        .values("customer_id")
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Exists, Max, OuterRef, QuerySet

from customers.models import Customer
from funnel.models import FunnelEvent

HandlerFunction = Callable[..., Iterable[int] | QuerySet]
MAX_LISTED_IDS = 5_000_000


@dataclass(frozen=True)
class Handler:
    name: str
    description: str
    function: HandlerFunction


class HandlerFailed(Exception):
    """The handler is unknown, raised, or returned something that is not ids."""


REGISTRY: dict[str, Handler] = {}


def handler(name: str, *, description: str) -> Callable[[HandlerFunction], HandlerFunction]:
    """Register the decorated function as the segment handler `name`."""

    def register(function: HandlerFunction) -> HandlerFunction:
        if name in REGISTRY:
            raise ValueError(f"A segment handler named {name!r} is already registered.")
        REGISTRY[name] = Handler(name, description, function)
        return function

    return register


def handler_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} — {REGISTRY[name].description}") for name in sorted(REGISTRY)]


def get_handler(name: str) -> Handler:
    try:
        return REGISTRY[name]
    except KeyError:
        raise HandlerFailed(f"No segment handler is registered under the name {name!r}.") from None


def run_handler(name: str, *, now: datetime) -> QuerySet | list[int]:
    """The handler's ids: a single-column QuerySet, or a checked list of ints."""
    registered = get_handler(name)
    try:
        result = registered.function(now=now)
    except Exception as error:  # noqa: BLE001 — any failure is reported, never a 500
        raise HandlerFailed(f"Handler {name!r} failed: {type(error).__name__}: {error}") from None
    if isinstance(result, QuerySet):
        return id_queryset(name, result)
    return id_list(name, result)


def id_queryset(name: str, result: QuerySet) -> QuerySet:
    selected = result.query.values_select
    if result.model is Customer and not selected and not result.query.annotation_select:
        return result.values("pk")
    if len(selected) == 1 and not result.query.annotation_select:
        if is_customer_id(result.model, selected[0]):
            return result
    raise HandlerFailed(
        f"Handler {name!r} returned a query of {result.model.__name__} values that are not "
        "customer ids; return customers, .values('id') of customers or .values('customer_id')."
    )


def is_customer_id(model: type[models.Model], name: str) -> bool:
    if name == "pk":
        return model is Customer
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    if model is Customer and field.primary_key:
        return True
    return bool(field.many_to_one and field.related_model is Customer)


def id_list(name: str, result: object) -> list[int]:
    if isinstance(result, str | bytes | dict) or not isinstance(result, Iterable):
        raise HandlerFailed(f"Handler {name!r} returned {type(result).__name__}, not ids.")
    ids = []
    for value in result:
        if isinstance(value, bool) or not isinstance(value, int):
            raise HandlerFailed(f"Handler {name!r} returned {value!r}, which is not a customer id.")
        ids.append(value)
        if len(ids) > MAX_LISTED_IDS:
            raise HandlerFailed(f"Handler {name!r} returned more than {MAX_LISTED_IDS} ids.")
    return ids


# -- the handlers marketers use ----------------------------------------------


@handler("new_last_7_days", description="Customers created in the last 7 days.")
def new_last_7_days(*, now: datetime) -> QuerySet:
    return Customer.objects.filter(created_date__gte=now - timedelta(days=7)).values("id")


@handler(
    "stalled_sales_30_days",
    description="Customers whose latest sales-funnel event is more than 30 days old.",
)
def stalled_sales_30_days(*, now: datetime) -> QuerySet:
    return (
        FunnelEvent.objects.filter(funnel_type=FunnelEvent.FunnelType.SALES)
        .values("customer_id")
        .annotate(latest=Max("created_date"))
        .filter(latest__lt=now - timedelta(days=30))
        .values("customer_id")
    )


@handler("no_funnel_events", description="Customers with no funnel event at all.")
def no_funnel_events(*, now: datetime) -> QuerySet:
    events = FunnelEvent.objects.filter(customer=OuterRef("pk"))
    return Customer.objects.filter(~Exists(events)).values("id")
