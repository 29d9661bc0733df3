from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class GenerationsConfig(AppConfig):
    name = "apps.generations"
    label = "generations"

    def ready(self):
        from apps.catalog.cache import forget_catalog_caches

        # Content policies are cached per process like the catalog (moderation.py); an admin's
        # edit reaches this process at once, others within the cache's TTL.
        post_save.connect(forget_catalog_caches, sender="generations.ContentPolicy", dispatch_uid="forget-policies")
        post_delete.connect(forget_catalog_caches, sender="generations.ContentPolicy",
                            dispatch_uid="forget-policies-del")
