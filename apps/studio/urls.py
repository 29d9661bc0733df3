from django.urls import path, register_converter

from . import views


class ModelIdConverter:
    """Model ids are slugs that may carry version dots: gpt-4.1, gemini-2.5-flash."""

    regex = r"[-a-zA-Z0-9_.]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ModelIdConverter, "model_id")

app_name = "studio"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("models/<model_id:slug>/", views.model_page, name="model"),
    path("models/<model_id:slug>/price", views.model_price, name="price"),
    path("models/<model_id:slug>/generate", views.generate, name="generate"),
    path("history/", views.history, name="history"),
    path("generations/<uuid:pk>/", views.generation_detail, name="generation"),
    path("generations/<uuid:pk>/cancel", views.generation_cancel_view, name="cancel"),
    path("generations/<uuid:pk>/share", views.generation_share_view, name="share"),
    path("generations/<uuid:pk>/unshare", views.generation_unshare_view, name="unshare"),
    path("s/<str:token>/", views.shared_view, name="shared"),
]
