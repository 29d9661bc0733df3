from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import User


@receiver(post_save, sender=User)
def onboard_new_user(sender, instance, created, raw=False, **kwargs):
    # Every way a user comes into being (sign-up, admin, createsuperuser) gets a wallet.
    if created and not raw:
        from .services import user_onboard

        user_onboard(user=instance)
