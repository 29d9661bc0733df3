from django.urls import path, register_converter

from . import views, views_chat, views_history, views_workspace


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
    path("pricing/", views.pricing, name="pricing"),
    path("models/<model_id:slug>/", views.model_page, name="model"),
    path("models/<model_id:slug>/price", views.model_price, name="price"),
    path("models/<model_id:slug>/generate", views.generate, name="generate"),
    path("models/<model_id:slug>/chat", views_chat.chat_start, name="chat_start"),
    path("models/<model_id:slug>/chat/stream", views_chat.chat_start_stream, name="chat_start_stream"),
    path("chat/", views_chat.chats, name="chats"),
    path("chat/<uuid:pk>/", views_chat.thread_page, name="chat_thread"),
    path("chat/<uuid:pk>/send", views_chat.chat_send, name="chat_send"),
    path("chat/<uuid:pk>/stream", views_chat.chat_stream, name="chat_stream"),
    path("history/", views_history.history, name="history"),
    path("history/more", views_history.history_more, name="history_more"),
    path("history/updates", views_history.history_updates, name="history_updates"),
    path("generations/<uuid:pk>/", views_history.generation_detail, name="generation"),
    path("generations/<uuid:pk>/cancel", views_history.generation_cancel_view, name="cancel"),
    path("generations/<uuid:pk>/favorite", views_history.generation_favorite, name="favorite"),
    path("generations/<uuid:pk>/delete", views_history.generation_delete_view, name="delete"),
    path("generations/<uuid:pk>/files/<int:index>", views_history.output_download, name="download"),
    path("generations/<uuid:pk>/files.zip", views_history.outputs_zip, name="download_zip"),
    path("generations/<uuid:pk>/share", views_history.generation_share_view, name="share"),
    path("generations/<uuid:pk>/unshare", views_history.generation_unshare_view, name="unshare"),
    path("s/<str:token>/", views_history.shared_view, name="shared"),
    path("uploads", views_workspace.upload, name="upload"),
    path("uploads/picker", views_workspace.media_picker, name="picker"),
    path("usage/", views_workspace.usage, name="usage"),
    path("usage.csv", views_workspace.usage_csv, name="usage_csv"),
    path("workspace/low-balance", views_workspace.low_balance, name="low_balance"),
]
