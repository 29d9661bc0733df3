from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from .models import User

# Sent inside the transaction that creates a workspace, with `workspace`. The wallet app
# listens (it gives the workspace its wallet and a personal one the sign-up grant): accounts
# sits below wallet and never imports it.
workspace_created = Signal()


@receiver(post_save, sender=User)
def onboard_new_user(sender, instance, created, raw=False, **kwargs):
    # Every way a user comes into being (sign-up, admin, createsuperuser) gets a wallet.
    if created and not raw:
        from .services import user_onboard

        user_onboard(user=instance)
