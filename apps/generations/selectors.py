"""Reads of generations that several surfaces need, with the "is this yours" rule in one place."""
from __future__ import annotations

import uuid

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
