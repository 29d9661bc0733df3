from django.conf import settings
from django.db import transaction

from apps.wallet.services import wallet_create, wallet_grant

from .models import Membership, User, Workspace


@transaction.atomic
def user_onboard(*, user: User) -> Workspace:
    """Give a new user a personal workspace, its wallet and the sign-up grant (once)."""
    workspace = Workspace.objects.filter(created_by=user, kind=Workspace.Kind.PERSONAL).first()
    if workspace is not None:
        return workspace
    workspace = Workspace.objects.create(kind=Workspace.Kind.PERSONAL, name="Personal", created_by=user)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)
    wallet = wallet_create(workspace=workspace)
    grant = settings.SIGNUP_GRANT_CREDITS * 1000
    if grant > 0:
        wallet_grant(wallet=wallet, amount=grant, reason="Sign-up grant", actor=None)
    User.objects.filter(pk=user.pk).update(current_workspace=workspace)
    user.current_workspace = workspace
    return workspace


def workspace_for_user(*, user: User, workspace_id: int | None = None) -> Workspace | None:
    """The workspace a request acts in: the given one if the user is a member, else their current one."""
    qs = Workspace.objects.filter(memberships__user=user)
    if workspace_id is not None:
        return qs.filter(pk=workspace_id).first()
    if user.current_workspace_id:
        found = qs.filter(pk=user.current_workspace_id).first()
        if found:
            return found
    return qs.order_by("id").first()
