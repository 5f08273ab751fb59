from django.urls import path

from templates_app import views

app_name = "templates_app"
urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_create, name="create"),
    path("preview/", views.draft_preview, name="draft_preview"),
    path("check/", views.draft_check, name="draft_check"),
    path("sample-customers/", views.sample_customers, name="sample_customers"),
    path("<int:pk>/", views.template_detail, name="detail"),
    path("<int:pk>/edit/", views.template_edit, name="edit"),
    path("<int:pk>/delete/", views.template_delete, name="delete"),
    path("<int:pk>/preview/", views.template_preview, name="preview"),
    path("<int:pk>/test-send/", views.template_test_send, name="test_send"),
]
