"""What the wallet does when accounts change: accounts sends, the wallet listens (one-way layering)."""
from django.conf import settings
from django.db.models.signals import post_delete
from django.dispatch import receiver

from apps.accounts.models import Membership, Workspace
from apps.accounts.signals import workspace_created

from .models import MemberCap
from .services import wallet_create, wallet_grant


@receiver(workspace_created)
def give_the_workspace_a_wallet(sender, workspace, **kwargs):
    wallet = wallet_create(workspace=workspace)
    grant = settings.SIGNUP_GRANT_CREDITS * 1000
    if workspace.kind == Workspace.Kind.PERSONAL and grant > 0:
        wallet_grant(wallet=wallet, amount=grant, reason="Sign-up grant", actor=None)


@receiver(post_delete, sender=Membership)
def drop_the_cap_of_a_member_who_left(sender, instance, **kwargs):
    # Someone who rejoins the team starts without the old cap, as with a fresh membership.
    MemberCap.objects.filter(wallet__workspace_id=instance.workspace_id, member_id=instance.user_id).delete()
