from django.urls import path

from . import docs, views_keys

app_name = "api"

urlpatterns = [
    # The reference (apps/api/docs.py): the OpenAPI document, the docs page, llms.txt.
    path("v1/openapi.json", docs.openapi_json, name="openapi"),
    path("api/v1/openapi.json", docs.openapi_json, name="openapi-api-v1"),
    path("docs/", docs.docs_page, name="docs"),
    path("llms.txt", docs.llms_txt, name="llms"),
    path("api-keys/", views_keys.keys_page, name="keys"),
    path("api-keys/<int:key_id>/revoke", views_keys.key_revoke, name="key_revoke"),
    path("api-keys/<int:key_id>/pause", views_keys.key_pause, name="key_pause"),
]
