"""The Webhooks page: a workspace's endpoints, its webhook_url signing secret, the delivery log."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError

from . import services
from .forms import EndpointForm
from .models import Delivery, Endpoint, SigningSecret

LOG_SIZE = 50


def _workspace(request):
    """The current workspace, if the user may manage its webhooks (owners and admins), else 404."""
    workspace = request.user.current_workspace
    if workspace is None or not services.workspace_manages(user=request.user, workspace=workspace):
        raise Http404("Only the workspace's owners and admins manage its webhooks.")
    return workspace


def _own_endpoint(request, pk) -> Endpoint:
    endpoint = Endpoint.objects.filter(pk=pk, workspace=_workspace(request)).first()
    if endpoint is None:
        raise Http404("No such endpoint.")
    return endpoint


def _deliveries(**filters):
    return (Delivery.objects.filter(**filters).select_related("event", "event__generation__model", "endpoint")
            .prefetch_related("log")[:LOG_SIZE])


def _page(request, workspace, *, form=None, status=200, **extra):
    context = {
        "workspace": workspace, "form": form or EndpointForm(),
        "endpoints": Endpoint.objects.filter(workspace=workspace),
        "secret_row": SigningSecret.objects.filter(workspace=workspace).first(),
        "deliveries": _deliveries(event__workspace=workspace), "timeout": f"{services.DEADLINE:g}",
        "disable_days": f"{services.DISABLE_AFTER.total_seconds() / 86400:g}", **extra,
    }
    response = render(request, "webhooks/page.html", context, status=status)
    if "secret" in extra:
        response["Cache-Control"] = "no-store"
    return response


@login_required
def webhooks_page(request):
    workspace = _workspace(request)
    if request.method != "POST":
        return _page(request, workspace)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _page(request, workspace, form=form, status=400)
    try:
        endpoint, secret = services.endpoint_create(workspace=workspace, user=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        for field, problems in (exc.fields or {"url": [exc.message]}).items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
        return _page(request, workspace, form=form, status=400)
    # Rendered, not redirected: the secret must never pass through the session or a cookie.
    return _page(request, workspace, secret=secret, secret_for=endpoint.url, status=201)


@login_required
@require_POST
def secret_roll(request):
    workspace = _workspace(request)
    secret = services.signing_secret_roll(workspace=workspace)
    return _page(request, workspace, secret=secret, secret_for="webhook_url on single requests")


@login_required
def endpoint_detail(request, pk):
    endpoint = _own_endpoint(request, pk)
    return render(request, "webhooks/endpoint.html", {"endpoint": endpoint,
                                                      "deliveries": _deliveries(endpoint=endpoint)})


@login_required
@require_POST
def endpoint_toggle(request, pk):
    endpoint = _own_endpoint(request, pk)
    if endpoint.enabled:
        services.endpoint_disable(endpoint=endpoint, reason=f"Disabled by {request.user.email}.")
        messages.info(request, "Endpoint disabled: nothing is sent to it until you enable it again.")
    else:
        services.endpoint_enable(endpoint=endpoint)
        messages.success(request, "Endpoint enabled. Redeliver what it missed from its log.")
    return redirect("webhooks:endpoint", pk=endpoint.pk)


@login_required
@require_POST
def endpoint_delete(request, pk):
    endpoint = _own_endpoint(request, pk)
    endpoint.delete()
    messages.info(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("webhooks:page")


@login_required
@require_POST
def delivery_redeliver(request, pk):
    delivery = Delivery.objects.filter(pk=pk, event__workspace=_workspace(request)).select_related("endpoint").first()
    if delivery is None:
        raise Http404("No such delivery.")
    try:
        services.delivery_redeliver(delivery=delivery)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Redelivering {delivery.event_id} to {delivery.url}.")
    if delivery.endpoint_id:
        return redirect("webhooks:endpoint", pk=delivery.endpoint_id)
    return redirect("webhooks:page")
