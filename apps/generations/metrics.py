"""Job counters and latency (Prometheus; aggregated over processes by apps/ops/views.py)."""
from __future__ import annotations

from django.utils import timezone
from prometheus_client import Counter, Histogram

from apps.catalog.cache import cached_model

JOBS_FINISHED = Counter("atelier_jobs_finished_total", "Jobs that reached a final state.", ["status", "model"])
JOB_SECONDS = Histogram(
    "atelier_job_seconds", "Time from submit to final state.", ["status", "modality"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3600),
)


def job_finished(*, generation, status: str) -> None:
    try:
        model = cached_model(generation.model_id)
        slug, modality = model.slug, model.modality
    except Exception:  # metrics never fail a job
        slug = modality = "unknown"
    JOBS_FINISHED.labels(status=status, model=slug).inc()
    if generation.created_at:
        JOB_SECONDS.labels(status=status, modality=modality).observe(
            max(0.0, (timezone.now() - generation.created_at).total_seconds()))
