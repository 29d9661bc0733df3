from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _forget_channel_configs(**kwargs):
    from .router import forget_channel_configs

    forget_channel_configs()


class ProvidersConfig(AppConfig):
    name = "apps.providers"
    label = "providers"

    def ready(self):
        # This process sees a channel edit at once; other processes within CHANNEL_CONFIG_TTL.
        post_save.connect(_forget_channel_configs, sender="catalog.Channel", dispatch_uid="forget-channel-configs")
        post_delete.connect(_forget_channel_configs, sender="catalog.Channel", dispatch_uid="forget-channel-configs-del")
