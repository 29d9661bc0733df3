"""Upstream error counter per channel (Prometheus). Circuit states are read at scrape time."""
from prometheus_client import Counter

UPSTREAM_ERRORS = Counter("atelier_upstream_errors_total", "Transient upstream failures by channel.", ["channel"])
