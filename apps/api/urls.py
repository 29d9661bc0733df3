from django.urls import path

from . import views_keys

app_name = "api"

urlpatterns = [
    path("api-keys/", views_keys.keys_page, name="keys"),
    path("api-keys/<int:key_id>/revoke", views_keys.key_revoke, name="key_revoke"),
    path("api-keys/<int:key_id>/pause", views_keys.key_pause, name="key_pause"),
]
