from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/", views.webhooks_page, name="page"),
    path("webhooks/secret", views.secret_roll, name="secret_roll"),
    path("webhooks/<int:pk>/", views.endpoint_detail, name="endpoint"),
    path("webhooks/<int:pk>/toggle", views.endpoint_toggle, name="toggle"),
    path("webhooks/<int:pk>/delete", views.endpoint_delete, name="delete"),
    path("webhooks/deliveries/<int:pk>/redeliver", views.delivery_redeliver, name="redeliver"),
]
