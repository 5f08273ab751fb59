"""Sections other apps add to the customer page.

`customers` imports none of the apps that build on it; an app that has
something to show about a customer registers a panel from its
`AppConfig.ready()` (automations adds "Messages"). Each panel's `table`
builds a django-tables2 table for one customer; the page paginates it with
its own prefix and renders it under `title`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class CustomerPanel:
    key: str  # also the table's query-string prefix
    title: str
    table: Callable[[HttpRequest, object], object]  # (request, customer) -> Table
    # Optional HTML shown above the table (a status line, a form): (request, customer) -> str
    above: Callable[[HttpRequest, object], str] | None = None


PANELS: dict[str, CustomerPanel] = {}


def register_panel(panel: CustomerPanel) -> None:
    PANELS[panel.key] = panel
