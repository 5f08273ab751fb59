from django.urls import path

from marketing_os.views import placeholder

app_name = "customers"
urlpatterns = [path("", placeholder, {"title": "Customers"}, name="list")]
