from django.contrib import admin
from django.urls import include, path

from apps.generations.views import media_file

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
    path("", include("apps.agents.urls")),
    path("", include("apps.webhooks.urls")),
    path("", include("apps.studio.urls")),
    # Local storage's signed, expiring media links (there is no public /media/).
    path("files/<path:name>", media_file, name="media_file"),
    # Last: django-ninja adds a root URL of its own ("") that must not shadow the gallery.
    path("", api.urls),
]
