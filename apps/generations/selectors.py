"""Reads of generations, outputs and uploads that several surfaces need (studio, API, agents).

"Is this yours": each `*_get_for_user` answers the object only when it belongs to a workspace
the user is a member of (or to the given workspace: an API key's), and raises the model's
DoesNotExist otherwise, so every edge answers 404 to anyone else, never 403. Soft-deleted
jobs do not exist for their workspace any more.

The history is paged with a keyset cursor on (created_at, id) over a partial index of the
visible jobs, so a page costs the same however many jobs the workspace has."""
from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.core.cache import cache
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from .models import Generation, Output, Upload

HISTORY_PAGE_SIZE = 24
EPOCH = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)


def _workspace_ids(user, workspace):
    if workspace is not None:
        return [workspace.pk] if user.memberships.filter(workspace=workspace).exists() else []
    return user.memberships.values("workspace_id")


def generations_visible():
    return Generation.objects.filter(deleted_at__isnull=True)


def generation_get_for_user(*, user, pk, workspace=None) -> Generation:
    """The generation `pk` if it is in one of the user's workspaces (or in `workspace`)."""
    if not getattr(user, "is_authenticated", False):
        raise Generation.DoesNotExist
    try:
        return (generations_visible().filter(pk=pk, workspace_id__in=_workspace_ids(user, workspace))
                .select_related("model").prefetch_related("outputs", "attempts").get())
    except (ValueError, Generation.DoesNotExist):
        raise Generation.DoesNotExist from None


def output_get_for_user(*, user, pk, workspace=None) -> Output:
    if not getattr(user, "is_authenticated", False):
        raise Output.DoesNotExist
    try:
        return (Output.objects.filter(pk=pk, generation__workspace_id__in=_workspace_ids(user, workspace),
                                      generation__deleted_at__isnull=True)
                .select_related("generation__model").get())
    except (ValueError, TypeError, Output.DoesNotExist):
        raise Output.DoesNotExist from None


def upload_get_for_user(*, user, pk, workspace=None) -> Upload:
    if not getattr(user, "is_authenticated", False):
        raise Upload.DoesNotExist
    try:
        return Upload.objects.filter(pk=pk, workspace_id__in=_workspace_ids(user, workspace)).get()
    except (ValueError, Upload.DoesNotExist):
        raise Upload.DoesNotExist from None


# ---- history --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryFilters:
    modality: str = ""
    model_id: int | None = None
    status: str = ""  # a Generation.Status, or "pending"
    date_from: date | None = None
    date_to: date | None = None
    favorites: bool = False
    query: str = ""


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: str

    def encode(self) -> str:
        micros = (self.created_at - EPOCH) // timedelta(microseconds=1)
        return f"{micros}_{self.id.replace('-', '')}"

    @classmethod
    def decode(cls, text: str) -> "Cursor | None":
        micros, _, ident = (text or "").partition("_")
        if not micros.isdigit() or len(ident) != 32 or any(c not in "0123456789abcdef" for c in ident):
            return None
        try:
            moment = EPOCH + timedelta(microseconds=int(micros))
        except OverflowError:
            return None
        return cls(created_at=moment, id=ident)

    @classmethod
    def of(cls, generation: Generation) -> "Cursor":
        return cls(created_at=generation.created_at, id=generation.pk.hex)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=dt_timezone.utc)


def history_queryset(*, workspace, filters: HistoryFilters):
    qs = generations_visible().filter(workspace=workspace)
    if filters.model_id:
        qs = qs.filter(model_id=filters.model_id)
    if filters.modality:
        qs = qs.filter(model__modality=filters.modality)
    if filters.status == "pending":
        qs = qs.filter(status__in=Generation.PENDING)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.favorites:
        qs = qs.filter(favorite=True)
    # Ranges on created_at (not __date) keep the index usable.
    if filters.date_from:
        qs = qs.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    for word in filters.query.split()[:8]:
        qs = qs.filter(Q(params__prompt__icontains=word) | Q(params__input__icontains=word))
    return qs


def _with_cards(qs):
    return qs.select_related("model").prefetch_related("outputs")


@dataclass
class HistoryPage:
    generations: list
    next_cursor: str | None  # older jobs after this page
    newest: str | None  # cursor of the first job shown (the watcher looks for newer ones)


def history_page(*, workspace, filters: HistoryFilters, cursor: Cursor | None = None,
                 size: int = HISTORY_PAGE_SIZE) -> HistoryPage:
    """One page of the workspace's jobs, newest first, strictly older than `cursor`."""
    qs = history_queryset(workspace=workspace, filters=filters)
    if cursor is not None:
        # created_at <= c bounds the index range; the OR breaks ties on the id.
        qs = qs.filter(created_at__lte=cursor.created_at).filter(
            Q(created_at__lt=cursor.created_at) | Q(id__lt=cursor.id))
    rows = list(_with_cards(qs.order_by("-created_at", "-id"))[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return HistoryPage(generations=rows, next_cursor=Cursor.of(rows[-1]).encode() if more else None,
                       newest=Cursor.of(rows[0]).encode() if rows else None)


def history_changes(*, workspace, filters: HistoryFilters, newest: Cursor | None, pending_ids: list[str],
                    limit: int = HISTORY_PAGE_SIZE) -> tuple[list, list]:
    """What a page showing jobs up to `newest` (with `pending_ids` unfinished) must update:
    (jobs created since, oldest last; the shown pending jobs in their current state)."""
    fresh = []
    if newest is not None:
        qs = history_queryset(workspace=workspace, filters=filters).filter(created_at__gte=newest.created_at)
        qs = qs.exclude(created_at=newest.created_at, id__lte=newest.id)
        fresh = list(_with_cards(qs.order_by("-created_at", "-id"))[:limit])
    else:
        fresh = history_page(workspace=workspace, filters=filters, size=limit).generations
    known = {g.pk for g in fresh}
    ids = [pk for pk in pending_ids[:100] if pk not in known]
    # Deleted jobs come back too (deleted_at set) so the page can drop their cards.
    updated = list(_with_cards(Generation.objects.filter(workspace=workspace, pk__in=ids))) if ids else []
    return fresh, updated


# ---- run-time estimates ---------------------------------------------------------------------
ESTIMATE_SAMPLE = 20
ESTIMATE_CACHE_SECONDS = 120


def model_run_seconds(*, model_id: int) -> float | None:
    """The median run time of the model's latest successful jobs (all workspaces), cached:
    the progress estimate of a job whose upstream reports no percentage."""
    key = f"generations:run-seconds:{model_id}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    rows = (Generation.objects.filter(model_id=model_id, status=Generation.Status.SUCCEEDED)
            .exclude(started_at__isnull=True).exclude(finished_at__isnull=True)
            .order_by("-finished_at").values_list("started_at", "finished_at")[:ESTIMATE_SAMPLE])
    seconds = [(finished - started).total_seconds() for started, finished in rows]
    median = round(statistics.median(seconds), 1) if seconds else 0.0
    cache.set(key, median, ESTIMATE_CACHE_SECONDS)
    return median or None


def progress_estimate(generation: Generation, *, now: datetime | None = None) -> dict | None:
    """{percent, seconds_left, estimated} for a pending job: the upstream's own percentage
    when it reports one, else elapsed time against the model's median run time."""
    if not generation.is_pending:
        return None
    if generation.progress:
        return {"percent": int(generation.progress), "seconds_left": None, "estimated": False}
    if generation.status == Generation.Status.QUEUED:
        return {"percent": 0, "seconds_left": None, "estimated": True}
    median = model_run_seconds(model_id=generation.model_id)
    if not median:
        return None
    elapsed = ((now or timezone.now()) - (generation.started_at or generation.created_at)).total_seconds()
    percent = max(1, min(95, int(100 * elapsed / median)))
    return {"percent": percent, "seconds_left": max(0, round(median - elapsed)), "estimated": True}


# ---- gallery previews -----------------------------------------------------------------------
def latest_thumbnails(*, workspace, model_ids) -> dict[int, str]:
    """{model id: storage name of the workspace's latest thumbnail of that model}; one query,
    one index lookup per model (gen_visible_model_recent)."""
    from apps.catalog.models import AIModel

    latest = (Output.objects.filter(generation__workspace=workspace, generation__model=OuterRef("pk"),
                                    generation__deleted_at__isnull=True,
                                    generation__status=Generation.Status.SUCCEEDED)
              .exclude(thumbnail="").order_by("-generation__created_at", "index").values("thumbnail")[:1])
    rows = AIModel.objects.filter(pk__in=list(model_ids)).annotate(thumb=Subquery(latest)).values_list("pk", "thumb")
    return {pk: thumb for pk, thumb in rows if thumb}


def recent_media(*, workspace, kind: str = "", limit: int = 24) -> list:
    """The workspace's latest uploads and outputs (newest first), for the input picker."""
    outputs = Output.objects.filter(generation__workspace=workspace, generation__deleted_at__isnull=True,
                                    generation__status=Generation.Status.SUCCEEDED)
    uploads = Upload.objects.filter(workspace=workspace)
    if kind:
        outputs, uploads = outputs.filter(kind=kind), uploads.filter(kind=kind)
    picked = list(outputs.select_related("generation").order_by("-generation__created_at", "index")[:limit])
    picked += list(uploads.order_by("-created_at")[:limit])
    picked.sort(key=lambda item: getattr(item, "created_at", None) or item.generation.created_at, reverse=True)
    return picked[:limit]


POPULAR_DAYS = 30
POPULAR_CACHE_SECONDS = 600


def popular_model_counts() -> dict[int, int]:
    """{model id: jobs in the last 30 days, all workspaces}: the gallery's "popular" order.
    One aggregate over the created_at index, cached for ten minutes."""
    from django.db.models import Count

    key = "generations:popular-models"
    counts = cache.get(key)
    if counts is None:
        since = timezone.now() - timedelta(days=POPULAR_DAYS)
        counts = dict(Generation.objects.filter(created_at__gte=since).values("model_id")
                      .annotate(n=Count("id")).values_list("model_id", "n"))
        cache.set(key, counts, POPULAR_CACHE_SECONDS)
    return counts


# ---- API reads ----------------------------------------------------------------------------
def generation_for_workspace(*, workspace_id: int, generation_id) -> Generation | None:
    """The generation if it belongs to the workspace, else None (callers answer 404, never 403).

    Outputs and attempts are prefetched: every surface that shows a generation lists both."""
    try:
        pk = uuid.UUID(str(generation_id))
    except ValueError:
        return None
    return (generations_visible().filter(pk=pk, workspace_id=workspace_id).select_related("model")
            .prefetch_related("outputs", "attempts").first())


def generations_of_workspace(*, workspace_id: int, status: str | None = None, limit: int = 20):
    qs = (generations_visible().filter(workspace_id=workspace_id).select_related("model")
          .prefetch_related("outputs", "attempts"))
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])


def api_key_spend(*, api_key_id: int, since=None) -> int:
    """Millicredits a key has spent or holds: captures of finished jobs plus holds of pending ones
    (what a per-key budget counts), since `since` when given."""
    qs = Generation.objects.filter(api_key_id=api_key_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    charged = qs.filter(status=Generation.Status.SUCCEEDED).aggregate(total=Sum("charged"))["total"] or 0
    held = qs.filter(status__in=Generation.PENDING).aggregate(total=Sum("price"))["total"] or 0
    return int(charged) + int(held)


def generations_usage(*, workspace_id: int, start=None, end=None, model: str = "", api_key_id: int | None = None,
                      limit: int = 100):
    """Finished, charged generations of a workspace, newest first: the usage history (jobs deleted
    from the history included: their charges stand)."""
    qs = (Generation.objects.filter(workspace_id=workspace_id, status=Generation.Status.SUCCEEDED)
          .select_related("model").prefetch_related("outputs").order_by("-finished_at"))
    if start is not None:
        qs = qs.filter(finished_at__gte=start)
    if end is not None:
        qs = qs.filter(finished_at__lt=end)
    if model:
        qs = qs.filter(model__slug=model)
    if api_key_id is not None:
        qs = qs.filter(api_key_id=api_key_id)
    return list(qs[:limit])
