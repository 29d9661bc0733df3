from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"

    def ready(self):
        from .services import forget_principals

        # A key's principal is cached per process (services.py): edits that change who a key
        # speaks for clear this process's cache at once, other processes' within seconds.
        for sender in ("api.ApiKey", "accounts.Membership", "accounts.User", "accounts.Workspace"):
            post_save.connect(forget_principals, sender=sender, dispatch_uid=f"forget-principals-{sender}")
            post_delete.connect(forget_principals, sender=sender, dispatch_uid=f"forget-principals-{sender}-del")
