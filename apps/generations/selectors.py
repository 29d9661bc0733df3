"""Reads of generations that several surfaces need, with the "is this yours" rule in one place."""
from __future__ import annotations

import uuid

from django.db.models import Sum

from .models import Generation


def generation_for_workspace(*, workspace_id: int, generation_id) -> Generation | None:
    """The generation if it belongs to the workspace, else None (callers answer 404, never 403).

    Outputs and attempts are prefetched: every surface that shows a generation lists both."""
    try:
        pk = uuid.UUID(str(generation_id))
    except ValueError:
        return None
    return (Generation.objects.filter(pk=pk, workspace_id=workspace_id).select_related("model")
            .prefetch_related("outputs", "attempts").first())


def generations_of_workspace(*, workspace_id: int, status: str | None = None, limit: int = 20):
    qs = (Generation.objects.filter(workspace_id=workspace_id).select_related("model")
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
    """Finished, charged generations of a workspace, newest first: the usage history."""
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
