from django.urls import path

from . import views

app_name = "studio"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("models/<slug:slug>/", views.model_page, name="model"),
    path("models/<slug:slug>/price", views.model_price, name="price"),
    path("models/<slug:slug>/generate", views.generate, name="generate"),
    path("history/", views.history, name="history"),
    path("generations/<uuid:pk>/", views.generation_detail, name="generation"),
    path("generations/<uuid:pk>/cancel", views.generation_cancel_view, name="cancel"),
]
