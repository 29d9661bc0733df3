from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"

    def ready(self):
        from apps.api.signals import webhook_requested
        from apps.generations.signals import generation_finished

        from .services import events_record, request_hook_attach

        generation_finished.connect(events_record, dispatch_uid="webhooks-events-record")
        webhook_requested.connect(request_hook_attach, dispatch_uid="webhooks-request-hook")
