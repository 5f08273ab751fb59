from django.urls import path

from marketing_os.views import placeholder

app_name = "imports"
urlpatterns = [path("", placeholder, {"title": "Imports"}, name="list")]
