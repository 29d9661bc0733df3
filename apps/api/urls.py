from django.urls import path

from apps.wallet import api as wallet_api

from . import views, views_keys

app_name = "api"

urlpatterns = [
    path("v1/models", views.models_list, name="models"),
    path("v1/models/<str:model_id>", views.model_get, name="model"),
    path("image/models", views.image_models, name="image_models"),
    path("text/models", views.text_models, name="text_models"),
    path("v1/quote", views.quote, name="quote"),
    path("v1/generations", views.generations, name="generations"),
    path("v1/generations/<str:generation_id>", views.generation_get, name="generation"),
    path("v1/generations/<str:generation_id>/cancel", views.generation_cancel_view, name="generation_cancel"),
    path("v1/balance", views.balance, name="balance"),
    path("v1/redeem", wallet_api.redeem, name="redeem"),
    path("api-keys/", views_keys.keys_page, name="keys"),
    path("api-keys/<int:key_id>/revoke", views_keys.key_revoke, name="key_revoke"),
]
