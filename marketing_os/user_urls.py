from django.urls import path

from marketing_os import user_views

app_name = "users"
urlpatterns = [
    path("", user_views.user_list, name="list"),
    path("new/", user_views.user_new, name="new"),
    path("<int:pk>/", user_views.user_edit, name="edit"),
    path("<int:pk>/unlock/", user_views.user_unlock, name="unlock"),
]
