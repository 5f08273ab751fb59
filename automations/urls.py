from django.urls import path

from automations import run_views, unsubscribe_views, views

app_name = "automations"
urlpatterns = [
    path("", views.automation_list, name="list"),
    path("new/", views.automation_new, name="new"),
    path("<int:pk>/", views.automation_detail, name="detail"),
    path("<int:pk>/edit/", views.automation_edit, name="edit"),
    path("<int:pk>/delete/", views.automation_delete, name="delete"),
    path("cron-preview/", views.cron_preview, name="cron_preview"),
    path("<int:pk>/run/", run_views.run_now, name="run_now"),
    path("<int:pk>/runs/<int:run_pk>/", run_views.run_detail, name="run_detail"),
    path(
        "customers/<int:pk>/resubscribe/",
        unsubscribe_views.customer_resubscribe,
        name="customer_resubscribe",
    ),
]
