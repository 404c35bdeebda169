"""URL root: the API under /api/v1/, the admin, and the health probes."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import health

api_v1: list[URLPattern | URLResolver] = [
    path("auth/", include("accounts.urls.auth")),
    path("users/", include("accounts.urls.users")),
    path("contests/<slug:slug>/", include("leaderboards.urls")),
    path("contests/", include("contests.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema"),
        name="docs",
    ),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler400 = "contestplatform.errors.bad_request"
handler403 = "contestplatform.errors.permission_denied"
handler404 = "contestplatform.errors.page_not_found"
handler500 = "contestplatform.errors.server_error"
