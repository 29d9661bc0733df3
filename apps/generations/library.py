"""A workspace's own library of jobs: favorites and (soft) deletion.

Deleting hides a job and its files from the workspace (history, downloads, use as input);
the row stays, with its hold and ledger entries, because the wallet audit reads them. A
job still running is canceled first, so its hold is released rather than left open."""
from __future__ import annotations

from django.utils import timezone

from .models import Generation
from .services import generation_cancel


def generation_set_favorite(*, generation: Generation, favorite: bool) -> Generation:
    Generation.objects.filter(pk=generation.pk, deleted_at__isnull=True).update(favorite=favorite)
    generation.favorite = favorite
    return generation


def generation_delete(*, generation: Generation) -> bool:
    """Hide the job from its workspace; False when it was already deleted."""
    if generation.is_pending:
        generation_cancel(generation=generation)
    now = timezone.now()
    hidden = Generation.objects.filter(pk=generation.pk, deleted_at__isnull=True).update(deleted_at=now)
    generation.deleted_at = generation.deleted_at or now
    return bool(hidden)
