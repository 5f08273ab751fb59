from django.urls import path

from funnel import views

app_name = "funnel"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("<int:pk>/", views.event_detail, name="detail"),
]
