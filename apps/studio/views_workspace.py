"""Uploads from the studio's drop zones, the input picker, and workspace pages: usage (spend
per day by model, CSV) and the low-balance alert."""
from __future__ import annotations


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.http import csv_download, status_for
from apps.generations.errors import UploadError
from apps.generations.selectors import recent_media
from apps.generations.storage import media_url
from apps.generations.uploads import upload_create, upload_url

from .common import current_workspace
from .forms import LowBalanceForm
from .services import can_set_alert, low_balance_set
from .usage import RANGES, usage_csv_rows, workspace_usage


@login_required
@require_POST
def upload(request):
    """One file from a drop zone or file picker -> JSON with the Atelier URL to put in the field."""
    workspace = current_workspace(request)
    file = request.FILES.get("file")
    if file is None:
        return JsonResponse({"error": {"code": "upload_missing", "message": "Choose a file to upload."}}, status=400)
    try:
        item = upload_create(user=request.user, workspace=workspace, file=file)
    except UploadError as exc:
        return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=status_for(exc))
    return JsonResponse({
        "id": str(item.pk), "url": upload_url(item), "kind": item.kind, "mime": item.mime, "name": item.original_name,
        "thumbnail": item.thumbnail.url if item.thumbnail else None, "size": item.size_bytes,
    }, status=201)


@login_required
@require_GET
def media_picker(request):
    """The workspace's latest results and uploads of a kind, to pick one as an input (HTMX)."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in {"image", "video", "audio"} else ""
    items = []
    for item in recent_media(workspace=current_workspace(request), kind=kind):
        label = getattr(item, "original_name", "") or getattr(getattr(item, "generation", None), "prompt", "")
        items.append({"url": media_url(item.file), "kind": item.kind, "label": label or item.kind,
                      "thumb": item.thumbnail.url if item.thumbnail else None})
    return render(request, "studio/model.html#picker", {"items": items, "field": request.GET.get("field", "")[:80]})


def _days(request) -> int:
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    return days if days in RANGES else 30


@login_required
def usage(request):
    workspace = current_workspace(request)
    report = workspace_usage(workspace=workspace, days=_days(request))
    return render(request, "studio/usage.html", {"usage": report, "ranges": RANGES})


@login_required
def usage_csv(request):
    workspace = current_workspace(request)
    report = workspace_usage(workspace=workspace, days=_days(request))
    return csv_download(usage_csv_rows(report), f"atelier-usage-{report.since}-{report.until}.csv")


@login_required
@require_POST
def low_balance(request):
    workspace = current_workspace(request)
    if not can_set_alert(workspace=workspace, user=request.user):
        raise Http404("Only owners set the alert.")
    form = LowBalanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The threshold must be a number of credits (up to three decimals).")
        return redirect("wallet:page")
    threshold = form.milli()
    low_balance_set(workspace=workspace, threshold=threshold)
    if threshold:
        messages.success(request, f"You will be alerted when {workspace.name} has less than "
                                  f"{form.cleaned_data['threshold'].normalize():f} credits available.")
    else:
        messages.success(request, "Low-balance alert turned off.")
    return redirect("wallet:page")

