from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self):
        from .cache import forget_catalog_caches

        # This process sees an edit at once; other processes within cache.TTL seconds.
        for sender in ("catalog.AIModel", "catalog.ModelRoute", "catalog.Channel"):
            post_save.connect(forget_catalog_caches, sender=sender, dispatch_uid=f"forget-catalog-{sender}")
            post_delete.connect(forget_catalog_caches, sender=sender, dispatch_uid=f"forget-catalog-{sender}-del")
