from apps.accounts.models import Workspace
from apps.accounts.services import workspace_for_user
from apps.wallet.selectors import wallet_summary


def workspace(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    ws = workspace_for_user(user=user)
    return {
        "workspace": ws,
        "wallet_summary": wallet_summary(workspace=ws) if ws else None,
        # For the top-bar switcher: personal first, then teams by name.
        "workspaces": Workspace.objects.filter(memberships__user=user).order_by("kind", "name"),
    }
