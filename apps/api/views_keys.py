"""The studio page where people create and revoke their API keys."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.models import Workspace

from .errors import ApiError
from .models import ApiKey
from .services import api_key_create, api_key_revoke

EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


def _context(request, **extra):
    return {
        "keys": ApiKey.objects.filter(user=request.user).select_related("workspace"),
        "workspaces": Workspace.objects.filter(memberships__user=request.user).order_by("kind", "name"),
        "expiry_choices": EXPIRY_CHOICES,
        **extra,
    }


@login_required
def keys_page(request):
    if request.method != "POST":
        return render(request, "api/keys.html", _context(request))
    workspace = Workspace.objects.filter(memberships__user=request.user, pk=request.POST.get("workspace") or 0).first()
    if workspace is None:
        raise Http404("No such workspace.")
    expiry = request.POST.get("expires_in_days", "")
    days = int(expiry) if expiry in {value for value, _ in EXPIRY_CHOICES if value} else None
    try:
        created = api_key_create(user=request.user, workspace=workspace, name=request.POST.get("name", ""),
                                 expires_in_days=days)
    except ApiError as error:
        return render(request, "api/keys.html", _context(request, error=error.message, name=request.POST.get("name", "")),
                      status=400)
    # Rendered, not redirected: the secret must never pass through the session or a message cookie.
    response = render(request, "api/keys.html", _context(request, created=created), status=201)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def key_revoke(request, key_id):
    if not ApiKey.objects.filter(pk=key_id, user=request.user).exists():
        raise Http404("No such key.")
    if api_key_revoke(user=request.user, key_id=key_id):
        messages.success(request, "Key revoked: requests with it now get 401 api_key_revoked.")
    else:
        messages.info(request, "This key was already revoked.")
    return redirect("api:keys")
