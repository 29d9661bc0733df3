from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from apps.api.app import api

admin.site.site_header = "Atelier administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("apps.wallet.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.api.urls")),
    path("", include("apps.agents.urls")),
    path("", include("apps.webhooks.urls")),
    path("", api.urls),
    path("", include("apps.studio.urls")),
]

if settings.SERVE_MEDIA:
    # Embedded mode serves outputs itself; production puts them on S3 or behind the web server.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
