"""The history wherever jobs are shown (the History page, each model's feed), a job's page,
downloads, favorites and deletion.

A page that shows jobs carries a watcher: every 1.5 s while something on it is pending (and
every 6 s otherwise, only while the tab is visible) it asks for what changed since the
newest job it shows, which finds jobs started elsewhere (another tab, the API, an agent).
Nothing changed is an empty 204; new jobs are inserted at the top, pending ones replaced in
place. A submit wakes the watcher at once (HX-Trigger), so a new job appears without
waiting for the next tick."""
from __future__ import annotations

import tempfile
import uuid
import zipfile
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.catalog.models import AIModel
from apps.generations.library import generation_delete, generation_set_favorite
from apps.generations.selectors import Cursor, generation_get_for_user, history_changes, history_page
from apps.generations.services import generation_cancel
from apps.generations.sharing import (
    ShareRefused,
    share_link_create,
    share_link_live,
    share_link_revoke,
    shared_generation,
)

from .common import current_workspace, download_name, mine, zip_name
from .forms import HistoryFilterForm

FAST_POLL, IDLE_POLL = "1500ms", "6s"


def _watch_url(query: dict, *, newest: str | None, pending: list) -> str:
    params = dict(query)
    if newest:
        params["after"] = newest
    if pending:
        params["pending"] = ",".join(str(pk) for pk in pending)
    return f"{reverse('studio:history_updates')}?{urlencode(params)}"


def feed_context(*, workspace, filters: HistoryFilterForm, model: AIModel | None = None, cursor=None) -> dict:
    """What the feed partial needs: one page of jobs, the load-more link and the watcher."""
    page = history_page(workspace=workspace, filters=filters.filters(model=model), cursor=cursor)
    query = filters.query()
    pending = [g.pk for g in page.generations if g.is_pending]
    return {
        "history": page.generations, "model": model, "filter_form": filters, "filter_query": urlencode(query),
        "next_url": f"{reverse('studio:history_more')}?{urlencode({**query, 'cursor': page.next_cursor})}"
        if page.next_cursor else None,
        "next_page": f"?{urlencode({**query, 'cursor': page.next_cursor})}" if page.next_cursor else None,
        # An older page (?cursor=, without JavaScript) is a snapshot: no watcher pulling newer jobs in.
        "watch_url": _watch_url(query, newest=page.newest, pending=pending) if cursor is None else None,
        "watch_every": FAST_POLL if pending else IDLE_POLL, "polling": bool(pending),
    }


def _filters_and_model(request) -> tuple[HistoryFilterForm, AIModel | None]:
    filters = HistoryFilterForm(request.GET)
    filters.is_valid()
    slug = filters.cleaned_data.get("model") if "model" not in filters.errors else ""
    model = get_object_or_404(AIModel, slug=slug) if slug else None
    return filters, model


@login_required
def history(request):
    workspace = current_workspace(request)
    filters, model = _filters_and_model(request)
    cursor = Cursor.decode(request.GET.get("cursor", ""))
    context = feed_context(workspace=workspace, filters=filters, model=model, cursor=cursor)
    context["models"] = AIModel.objects.filter(enabled=True).order_by("name").only("slug", "name")
    context["paged"] = cursor is not None
    template = "studio/history.html#feed" if request.htmx and not request.htmx.boosted else "studio/history.html"
    return render(request, template, context)


@login_required
@require_GET
def history_more(request):
    """The next page of cards ("Load more"), with the following load-more link."""
    workspace = current_workspace(request)
    filters, model = _filters_and_model(request)
    cursor = Cursor.decode(request.GET.get("cursor", ""))
    if cursor is None:
        raise Http404("No such page.")
    context = feed_context(workspace=workspace, filters=filters, model=model, cursor=cursor)
    return render(request, "studio/history.html#page", context)


@login_required
@require_GET
def history_updates(request):
    workspace = current_workspace(request)
    filters, model = _filters_and_model(request)
    newest = Cursor.decode(request.GET.get("after", ""))
    pending = []
    for text in request.GET.get("pending", "").split(",")[:100]:
        try:
            pending.append(uuid.UUID(text))
        except ValueError:
            continue  # a malformed id is ignored, not an error page
    fresh, updated = history_changes(workspace=workspace, filters=filters.filters(model=model), newest=newest,
                                     pending_ids=pending)
    if not fresh and not updated:
        return HttpResponse(status=204)  # nothing new: htmx keeps the watcher as it is
    still_pending = [g.pk for g in fresh + updated if g.is_pending and not g.deleted_at]
    if newest is not None and not fresh:
        after = newest.encode()
    else:
        after = Cursor.of(fresh[0]).encode() if fresh else None
    context = {
        "fresh": fresh, "updated": updated,
        "watch_url": _watch_url(filters.query(), newest=after, pending=still_pending),
        "watch_every": FAST_POLL if still_pending else IDLE_POLL,
        "finished": [g for g in updated if not g.is_pending],
    }
    response = render(request, "studio/history.html#updates", context)
    if context["finished"]:
        response["HX-Trigger"] = "wallet-changed"  # captures changed the balance: re-check the price
    return response


# ---- one job --------------------------------------------------------------------------------
def _settings_rows(generation) -> list[tuple[str, str]]:
    """The params a person chose, labelled as on the form (the prompt is shown on its own)."""
    rows = []
    for spec in generation.model.schema.get("fields", []):
        name = spec["name"]
        if name == "prompt" or name not in generation.params:
            continue
        value = generation.params[name]
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif spec["type"] == "messages" and isinstance(value, list):
            value = f"{len(value)} message{'s' if len(value) != 1 else ''}"
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        rows.append((spec.get("label") or name.replace("_", " ").capitalize(), str(value)))
    return rows


@login_required
def generation_detail(request, pk):
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    context = {"generation": generation, "settings_rows": _settings_rows(generation),
               "share_link": share_link_live(generation=generation)}
    if request.htmx:
        response = render(request, "studio/generation.html#poll", context)
        return response if generation.is_pending else HttpResponseStopPolling(response.content)
    return render(request, "studio/generation.html", context)


def _after_action(request, generation, *, card: bool = True):
    """HTMX: the card again (it replaces itself); without JavaScript: back where the user was."""
    if request.htmx and card:
        return render(request, "studio/history.html#card", {"generation": generation})
    target = request.POST.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = reverse("studio:generation", args=[generation.pk])
    return redirect(target)


@login_required
@require_POST
def generation_cancel_view(request, pk):
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    if generation_cancel(generation=generation):
        messages.success(request, "Canceled; the hold was released.")
    else:
        messages.info(request, "This generation had already finished.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("studio:generation", pk=generation.pk)


@login_required
@require_POST
def generation_favorite(request, pk):
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    generation_set_favorite(generation=generation, favorite=request.POST.get("favorite") == "1")
    return _after_action(request, generation)


@login_required
@require_POST
def generation_delete_view(request, pk):
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    generation_delete(generation=generation)
    if request.htmx:
        if request.POST.get("from") == "detail":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("studio:history")
            return response
        return HttpResponse("")  # the card swaps itself out
    messages.success(request, "Deleted from your history. Charges stay in the wallet's ledger.")
    return redirect("studio:history")


@login_required
@require_POST
def generation_share_view(request, pk):
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    try:
        share_link_create(generation=generation, user=request.user)
        messages.success(request, "Anyone with the link below can now see this generation's results.")
    except ShareRefused as exc:
        messages.error(request, exc.message)
    return redirect("studio:generation", pk=generation.pk)


@login_required
@require_POST
def generation_unshare_view(request, pk):
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    if share_link_revoke(generation=generation, user=request.user):
        messages.success(request, "The share link no longer works.")
    return redirect("studio:generation", pk=generation.pk)


def shared_view(request, token):
    """The public page of a share link: the results (through signed URLs), nothing else."""
    generation = shared_generation(token=token)
    if generation is None:
        raise Http404("This link does not exist or was revoked.")
    response = render(request, "studio/shared.html", {"generation": generation})
    # The token is the page's only secret: keep it out of Referer headers, caches and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response


# ---- downloads ------------------------------------------------------------------------------
@login_required
def output_download(request, pk, index):
    """One file, named after the prompt, read through the storage API."""
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    outputs = list(generation.outputs.all())
    output = next((o for o in outputs if o.index == index), None)
    if output is None:
        raise Http404("No such file.")
    return FileResponse(default_storage.open(output.file.name, "rb"), as_attachment=True,
                        filename=download_name(generation, output, numbered=len(outputs) > 1),
                        content_type=output.mime)


@login_required
def outputs_zip(request, pk):
    """Every file of a job in one zip (stored, not recompressed: media is compressed already)."""
    generation = mine(generation_get_for_user, user=request.user, pk=pk)
    outputs = list(generation.outputs.all())
    if not outputs:
        raise Http404("This job has no files.")
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for output in outputs:
            with default_storage.open(output.file.name, "rb") as handle, \
                    archive.open(download_name(generation, output, numbered=True), "w") as entry:
                for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                    entry.write(chunk)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=zip_name(generation), content_type="application/zip")

