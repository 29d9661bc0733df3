from django.core.management.base import BaseCommand

from apps.catalog.data import all_models
from apps.catalog.services import catalog_sync


class Command(BaseCommand):
    help = "Load the model catalog from apps/catalog/data (idempotent; admin overrides are kept)."

    def handle(self, *args, **options):
        result = catalog_sync(entries=all_models())
        self.stdout.write(
            f"catalog: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
