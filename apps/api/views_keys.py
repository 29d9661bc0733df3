"""The studio page where people create, pause, resume and revoke their API keys."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.services import plan_of

from .catalog import enabled_models
from .errors import ApiError
from .forms import ApiKeyForm
from .models import ApiKey
from .services import api_key_create, api_key_revoke, api_key_set_paused


def _context(request, form, **extra):
    return {"keys": ApiKey.objects.filter(user=request.user).select_related("workspace"), "form": form,
            "plan": plan_of(request.user.current_workspace) if request.user.current_workspace_id else None,
            **extra}


def _form(request, data=None):
    return ApiKeyForm(data, user=request.user, models=enabled_models())


@login_required
def keys_page(request):
    if request.method != "POST":
        return render(request, "api/keys.html", _context(request, _form(request)))
    form = _form(request, request.POST)
    if not form.is_valid():
        if "workspace" in form.errors:
            raise Http404("No such workspace.")
        return render(request, "api/keys.html", _context(request, form), status=400)
    try:
        created = api_key_create(user=request.user, **form.cleaned_data)
    except ApiError as error:
        for field, problems in (error.fields or {}).items():
            form.add_error(field if field in form.fields else None, problems)
        if not error.fields:
            form.add_error(None, error.message)
        return render(request, "api/keys.html", _context(request, form), status=400)
    # Rendered, not redirected: the secret must never pass through the session or a message cookie.
    response = render(request, "api/keys.html", _context(request, _form(request), created=created), status=201)
    response["Cache-Control"] = "no-store"
    return response


def _own_key(request, key_id) -> ApiKey:
    key = ApiKey.objects.filter(pk=key_id, user=request.user).first()
    if key is None:
        raise Http404("No such key.")
    return key


@login_required
@require_POST
def key_revoke(request, key_id):
    _own_key(request, key_id)
    if api_key_revoke(user=request.user, key_id=key_id):
        messages.success(request, "Key revoked: requests with it now get 401 invalid_api_key.")
    else:
        messages.info(request, "This key was already revoked.")
    return redirect("api:keys")


@login_required
@require_POST
def key_pause(request, key_id):
    key = _own_key(request, key_id)
    pause = not key.is_paused
    if api_key_set_paused(user=request.user, key_id=key_id, paused=pause):
        messages.success(request, f"{key.name} {'paused: requests get 403 api_key_paused' if pause else 'resumed'}.")
    return redirect("api:keys")
