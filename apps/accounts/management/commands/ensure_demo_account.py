import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.models import User

DEMO_EMAIL = "demo@atelier.local"


class Command(BaseCommand):
    help = "Create a demo account with starter credits if no account exists yet; print its login."

    def handle(self, *args, **options):
        credentials = settings.VAR_DIR / "demo-credentials.txt"
        if User.objects.exists():
            if credentials.exists() and User.objects.filter(email=DEMO_EMAIL).exists():
                self.stdout.write(f"demo account: {credentials.read_text().strip()}")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_user(email=DEMO_EMAIL, password=password)
        credentials.write_text(f"{DEMO_EMAIL} / {password}\n")
        credentials.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"demo account created: {DEMO_EMAIL} / {password}"))
