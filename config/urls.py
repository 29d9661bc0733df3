from django.contrib import admin
from django.urls import include, path

from apps.generations.views import media_file

admin.site.site_header = "Atelier administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("apps.wallet.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.api.urls")),
    path("", include("apps.studio.urls")),
    # Local storage's signed, expiring media links (there is no public /media/).
    path("files/<path:name>", media_file, name="media_file"),
]
