from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from allauth.account.decorators import secure_admin_login

from apps.api.app import api
from apps.ops import views as ops_views
from apps.ops.admin_site import admin_has_permission

admin.site.site_header = "Atelier administration"
# Admin signs in through allauth (rate limits, the MFA step), never through its own form.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.has_permission = admin_has_permission(admin.site.has_permission)
handler500 = "apps.ops.views.server_error"

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("apps.wallet.urls")),
    path("", include("apps.teams.urls")),
    path("", include("apps.api.urls")),
    path("", include("apps.studio.urls")),
    # Last: django-ninja adds a root URL of its own ("") that must not shadow the gallery.
    path("", api.urls),
]

if settings.SERVE_MEDIA:
    # Embedded mode serves outputs itself; production puts them on S3 or behind the web server.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
