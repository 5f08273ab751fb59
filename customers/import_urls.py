"""/imports/: CSV upload, background import status and error reports.

URL names are fixed (other pages link to them): list, new (``?kind=customers``,
``attributes`` or ``events``), detail, errors (the bad lines as CSV).
"""

from django.urls import path

from customers import import_views

app_name = "imports"
urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("new/", import_views.import_new, name="new"),
    path("<int:pk>/", import_views.import_detail, name="detail"),
    path("<int:pk>/errors.csv", import_views.import_errors, name="errors"),
]
