from .services import low_balance_threshold


def low_balance(request):
    """The current workspace's low-balance threshold; base.html compares it with the
    available credits the accounts context processor already read."""
    user = getattr(request, "user", None)
    workspace_id = getattr(user, "current_workspace_id", None) if user and user.is_authenticated else None
    if not workspace_id:
        return {}
    return {"low_balance_threshold": low_balance_threshold(workspace_id=workspace_id)}
