from django.urls import path

from marketing_os import api_key_views

app_name = "api_keys"
urlpatterns = [
    path("", api_key_views.api_key_list, name="list"),
    path("new/", api_key_views.api_key_new, name="new"),
    path("<int:pk>/", api_key_views.api_key_detail, name="detail"),
    path("<int:pk>/revoke/", api_key_views.api_key_revoke, name="revoke"),
]
