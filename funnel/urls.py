from django.urls import path

from marketing_os.views import placeholder

app_name = "funnel"
urlpatterns = [path("", placeholder, {"title": "Funnel events"}, name="list")]
