from django.urls import path

from automations import views
from marketing_os.views import placeholder

app_name = "automations"
urlpatterns = [
    path("", placeholder, {"title": "Automations"}, name="list"),
    path("cron-preview/", views.cron_preview, name="cron_preview"),
]
