"""Concurrency limits checked when a job is submitted (reference 004: 2 concurrent video jobs).

The check runs inside the submitting transaction, after a lock that serialises submissions of
one workspace's video jobs (SQLite's IMMEDIATE transaction already does; on PostgreSQL a
transaction-scoped advisory lock), so two simultaneous submits can never both take the last
slot. A full cap is refused, never queued silently."""
from __future__ import annotations

from django.db import connection

from apps.accounts.services import plan_of
from apps.core.errors import Kind

from .errors import SubmitError
from .models import Generation

VIDEO_LOCK_NAMESPACE = 0x5644  # "VD": advisory lock ids (namespace, workspace id)
RETRY_AFTER_SECONDS = 10


def pending_slot_take(*, workspace, model) -> None:
    cap = plan_of(workspace).concurrent_video_jobs if model.modality == "video" else None
    if not cap:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [VIDEO_LOCK_NAMESPACE, workspace.pk])
    in_flight = Generation.objects.filter(workspace_id=workspace.pk, status__in=Generation.PENDING,
                                          model__modality="video").count()
    if in_flight >= cap:
        raise SubmitError("concurrency_limit_exceeded",
                          f"Your plan runs {cap} video jobs at once and {in_flight} are in flight; submit this "
                          "one when one of them finishes.", kind=Kind.RATE_LIMITED, retry_after=RETRY_AFTER_SECONDS)
