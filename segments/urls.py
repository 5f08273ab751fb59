from django.urls import path

from marketing_os.views import placeholder

app_name = "segments"
urlpatterns = [path("", placeholder, {"title": "Segments"}, name="list")]
