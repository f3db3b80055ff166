"""URL map: pages, /admin/, /api/v1/ and the OpenAPI schema and docs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .api.views import ApiRootApi
from .signin import AdminSignInForm, SignInForm

# The admin's sign-in goes through the same throttle and says why it refuses.
admin.site.login_form = AdminSignInForm
admin.site.site_header = "Labelops administration"
admin.site.site_title = "Labelops admin"
admin.site.index_title = "Datasets, labeling and jobs"

api_v1 = [
    path("", ApiRootApi.as_view(), name="root"),
    path("", include("dashboard.api.urls")),
    path("", include("versions.api.urls")),
    path("", include("batches.api.urls")),
]

urlpatterns = [
    path("", views.overview, name="overview"),
    path("jobs/", views.jobs_page, name="job-list"),
    path("jobs/<str:job_id>/", views.job_page, name="job-detail"),
    path("jobs/<str:job_id>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("jobs/<str:job_id>/retry/", views.job_retry_view, name="job-retry"),
    path("profile/", views.profile, name="profile"),
    path("activity/", views.activity_page, name="activity"),
    path("webhooks/", views.webhooks_page, name="webhook-list"),
    path("webhooks/<str:webhook_id>/", views.webhook_page, name="webhook-detail"),
    path("webhooks/<str:webhook_id>/test/", views.webhook_test_view, name="webhook-test"),
    path("webhooks/<str:webhook_id>/delete/", views.webhook_delete_view, name="webhook-delete"),
    path(
        "webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver/",
        views.delivery_redeliver_view,
        name="webhook-redeliver",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("versions.urls")),
    path("", include("batches.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs.html"),
        name="api-docs",
    ),
]

handler400 = "dashboard.error_views.bad_request"
handler403 = "dashboard.error_views.permission_denied"
handler404 = "dashboard.error_views.page_not_found"
handler500 = "dashboard.error_views.server_error"
