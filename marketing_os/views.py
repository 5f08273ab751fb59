from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def placeholder(request: HttpRequest, title: str, **kwargs: object) -> HttpResponse:
    """A page whose area is not built yet (kept so navigation never 404s)."""
    return render(request, "placeholder.html", {"title": title})
