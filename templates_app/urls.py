from django.urls import path

from marketing_os.views import placeholder

app_name = "templates_app"
urlpatterns = [path("", placeholder, {"title": "Templates"}, name="list")]
