"""Which Celery queue a job's tasks go to, and the per-workspace share of the worker pools.

Quick jobs (text, image, speech) and long ones (video, music) have their own queues and worker
pools, so a minute-long video render never sits in front of a two-second image. Within a pool,
one workspace may hold at most WORKSPACE_MAX_ACTIVE_{QUICK,LONG} worker slots: a burst of 200
jobs from one workspace is taken off the queue at the broker's pace, but past that share each
job is put back with a short countdown instead of occupying a slot, so another workspace's job
behind the burst is reached within a few milliseconds per deferred message, not after the
whole burst has run (fair ordering without a scheduler of our own)."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.utils import timezone

from apps.catalog.cache import cached_model

from .models import Generation

log = logging.getLogger(__name__)

LONG_MODALITIES = frozenset({"video", "music"})
MAX_DEFER_SECONDS = 30.0


def model_queue(model_id: int) -> str:
    return settings.CELERY_LONG_QUEUE if cached_model(model_id).modality in LONG_MODALITIES else settings.CELERY_QUICK_QUEUE


def job_queue(generation) -> str:
    """The queue of a Generation, or of a generation id (one query: only the sweeper passes ids)."""
    model_id = getattr(generation, "model_id", None)
    if model_id is None:
        model_id = Generation.objects.filter(pk=generation).values_list("model_id", flat=True).first()
        if model_id is None:
            return settings.CELERY_QUICK_QUEUE  # gone: the task will find nothing to do
    return model_queue(model_id)


def _share(queue: str) -> int:
    return settings.WORKSPACE_MAX_ACTIVE_LONG if queue == settings.CELERY_LONG_QUEUE else settings.WORKSPACE_MAX_ACTIVE_QUICK


def workspace_defer_if_busy(*, generation: Generation, requeue: Callable) -> bool:
    """After a claim: True (and the job handed back to the queue) when the workspace already has
    its share of this pool's slots. Jobs already submitted upstream never wait here.

    Counted after the claim is committed, so two claims racing for the last slot both see each
    other and at worst both wait one round: the share is never exceeded."""
    if generation.upstream_id:
        return False
    queue = model_queue(generation.model_id)
    share = _share(queue)
    if not share:
        return False
    long_pool = queue == settings.CELERY_LONG_QUEUE
    active = Generation.objects.filter(workspace_id=generation.workspace_id, status=Generation.Status.RUNNING,
                                       upstream_id="").exclude(pk=generation.pk)
    active = active.filter(model__modality__in=LONG_MODALITIES) if long_pool else \
        active.exclude(model__modality__in=LONG_MODALITIES)
    if active.count() < share:
        return False
    now = timezone.now()
    waited = max(0.0, (now - generation.created_at).total_seconds())
    delay = min(max(1.0, waited * 0.2), MAX_DEFER_SECONDS)
    # Back to queued, as if never started: it has not reached an upstream yet.
    handed_back = Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
        status=Generation.Status.QUEUED, started_at=None,
        # The sweeper re-enqueues it if this message is lost, a lease after it was due.
        next_check_at=now + timedelta(seconds=delay + settings.GENERATION_LEASE_SECONDS),
    )
    if handed_back:
        requeue(generation, countdown=delay)
    return True
