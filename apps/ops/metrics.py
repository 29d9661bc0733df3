"""Prometheus metrics of the web tier, and the gauges read at scrape time.

Counters and histograms are written by whichever process observes the event (web processes,
Celery workers); with PROMETHEUS_MULTIPROC_DIR set (runall and serve set it) each process
writes its own files there and /metrics adds them up. Gauges that describe shared state (jobs
waiting or running, open circuits) are read from the database and the cache when scraped, so
they are the same whichever process answers."""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

WEB_SECONDS = Histogram(
    "atelier_http_request_seconds", "Time to the response (headers) of a web request.",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BUSY_ANSWERS = Counter("atelier_busy_answers_total", "Requests answered 503 because the database was busy.")


class SharedStateCollector:
    """Jobs by state and model (pending ones: the queue), circuit state by channel."""

    def collect(self):
        from django.db.models import Count

        from apps.catalog.models import Channel
        from apps.generations.models import Generation
        from apps.providers.health import channels_open

        jobs = GaugeMetricFamily("atelier_jobs", "Jobs waiting or running now, by state and model.",
                                 labels=["status", "model"])
        rows = (Generation.objects.filter(status__in=Generation.PENDING)
                .values_list("status", "model__slug").annotate(n=Count("id")).order_by())
        for status, slug, count in rows:
            jobs.add_metric([status, slug], count)
        yield jobs
        circuits = GaugeMetricFamily("atelier_channel_circuit_open",
                                     "1 while a channel's circuit breaker is open (calls skip it).", labels=["channel"])
        names = list(Channel.objects.filter(enabled=True).values_list("name", flat=True))
        opened = channels_open(names)
        for name in names:
            circuits.add_metric([name], 1.0 if name in opened else 0.0)
        yield circuits


def metrics_text() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY  # one process: its own counters
    text = generate_latest(registry)
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedStateCollector())
    return text + generate_latest(shared)
