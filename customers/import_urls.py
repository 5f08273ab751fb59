"""/imports/: CSV upload, background import status and error reports.

URL names are fixed (other pages link to them): list, new (``?kind=customers``,
``attributes`` or ``events``), detail, errors (the bad lines as CSV).
"""

from django.urls import path

from marketing_os.views import placeholder

app_name = "imports"
urlpatterns = [
    path("", placeholder, {"title": "Imports"}, name="list"),
    path("new/", placeholder, {"title": "Imports"}, name="new"),
    path("<int:pk>/", placeholder, {"title": "Imports"}, name="detail"),
    path("<int:pk>/errors.csv", placeholder, {"title": "Imports"}, name="errors"),
]
