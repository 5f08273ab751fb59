from django.urls import path

from marketing_os.views import placeholder

app_name = "automations"
urlpatterns = [path("", placeholder, {"title": "Automations"}, name="list")]
