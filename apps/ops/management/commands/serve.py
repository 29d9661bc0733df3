"""`manage.py serve`: the production web server, granian with the WSGI interface.

WSGI is synchronous, so every request in flight, an open SSE stream included, holds one of a
worker's blocking threads: WEB_WORKERS x WEB_THREADS is how many requests and streams run at
once (256 by default); further requests wait in granian (Rust, no Python) for a thread.
granian's backpressure (WEB_BACKPRESSURE per worker) counts open *connections*, idle
keep-alive ones included, so it is set far above the thread count: set to the thread count,
a few idle keep-alive clients would hold every slot and stall everyone else (measured: with
backpressure 2, a third connection waited until the idle ones timed out). Past it,
connections wait in the listen backlog. Each worker process has its own database pool
(DB_POOL_MAX_SIZE): requests beyond it wait for a connection, then answer a retryable 503."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def granian_argv(*, addr: str, workers: int, threads: int, backpressure: int) -> list[str]:
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--addr must be HOST:PORT, not {addr!r}")
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi", "config.wsgi:application",
        "--host", host.strip("[]"), "--port", port, "--workers", str(workers),
        "--blocking-threads", str(threads), "--backpressure", str(backpressure), "--backlog", "2048",
        "--no-ws", "--respawn-failed-workers", "--workers-kill-timeout", "30",
        "--log-level", settings.LOG_LEVEL.lower(),
    ]


class Command(BaseCommand):
    help = "Serve the site with granian (WSGI): the production web server, also used by `make run`."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=settings.ATELIER_ADDR, help="HOST:PORT (default ATELIER_ADDR)")
        parser.add_argument("--workers", type=int, default=settings.WEB_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.WEB_THREADS, help="blocking threads per worker")
        parser.add_argument("--backpressure", type=int, default=settings.WEB_BACKPRESSURE,
                            help="open connections per worker")

    def handle(self, *args, addr, workers, threads, backpressure, **options):
        multiproc = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(settings.VAR_DIR) / "metrics"))
        Path(multiproc).mkdir(parents=True, exist_ok=True)
        argv = granian_argv(addr=addr, workers=workers, threads=threads, backpressure=backpressure)
        sys.stdout.flush()
        os.chdir(settings.BASE_DIR)
        os.execv(argv[0], argv)  # granian takes over this process: signals reach it directly
