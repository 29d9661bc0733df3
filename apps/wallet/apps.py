from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "apps.wallet"
    label = "wallet"

    def ready(self):
        from apps.core.db import statement_cache_widen

        from . import signals  # noqa: F401

        statement_cache_widen()  # the hold and settle statements are longer than psycopg caches by default
