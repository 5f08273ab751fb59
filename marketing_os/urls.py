from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from automations import unsubscribe_views, webhooks
from marketing_os import api, views
from marketing_os.access import no_role_required

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", no_role_required(auth_views.LogoutView.as_view()), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include("marketing_os.api_urls")),
    re_path(r"^api/", api.not_found),
    path("imports/", include("customers.import_urls")),
    path("customers/", include("customers.urls")),
    path("events/", include("funnel.urls")),
    path("segments/", include("segments.urls")),
    path("templates/", include("templates_app.urls")),
    path("automations/", include("automations.urls")),
    path("audit/", include("audit.urls")),
    path("settings/users/", include("marketing_os.user_urls")),
    path("settings/api-keys/", include("marketing_os.api_key_urls")),
    path("unsubscribe/<str:token>/", unsubscribe_views.unsubscribe_page, name="unsubscribe"),
    path("webhooks/resend", webhooks.resend_webhook, name="resend_webhook"),
    path("", include("customers.home_urls")),
]

# Under /api/ these answer JSON; elsewhere Django's own pages (403: ours, naming the role).
handler400 = api.bad_request
handler403 = api.permission_denied
handler404 = api.page_not_found
handler500 = api.server_error
