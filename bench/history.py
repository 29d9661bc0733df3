"""Server time of the History page with 1,000 and with 100,000 generations in the workspace.

    .venv/bin/python bench/history.py [--backend pg|sqlite|both] [--repeat 40]

Fills one workspace with 1,000 jobs (one output each, spread over 90 days, several models
and statuses), measures, grows it to 100,000 and measures again, on a PostgreSQL it starts
itself (tests/support/servers) and/or a fresh SQLite file. Each figure is the median server
time of --repeat requests through Django's test client (middleware, view, queries,
templates; no network), for:
  - the History page (first page of cards),
  - its next page ("Load more": the keyset cursor from the first page),
  - the watcher's tick on that page when nothing changed (every few seconds per open tab).
Prints the query count of each and the ratio 100k / 1k (target: at most 1.3)."""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = (1_000, 100_000)
BATCH = 5_000
PROMPTS = ["a lighthouse on a cliff at dusk", "a red fox in fresh snow", "neon city street in the rain",
           "a bowl of ramen, studio light", "an owl on a branch at night", "waves crashing on black sand"]


def _django(database_url: str | None):
    var = tempfile.mkdtemp(prefix="atelier-bench-history-")
    os.environ["ATELIER_VAR_DIR"] = var
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(Path(var) / "bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)  # a throwaway var folder has no key file
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DB_CONN_MAX_AGE", "600")
    import django

    django.setup()


def _populate(workspace, user, models, start: int, stop: int):
    """Jobs start..stop-1 of the workspace, written in batches (bulk_create, no hooks)."""
    from django.utils import timezone

    from apps.generations.models import Generation, Output

    created = Generation._meta.get_field("created_at")
    created.auto_now_add = False  # the jobs are spread over 90 days, not all "now"
    now = timezone.now()
    rng = random.Random(start)
    try:
        for first in range(start, stop, BATCH):
            jobs, outputs = [], []
            for _ in range(first, min(stop, first + BATCH)):
                model = rng.choice(models)
                status = rng.choices(["succeeded", "failed", "canceled"], weights=[92, 6, 2])[0]
                when = now - timedelta(seconds=rng.uniform(60, 90 * 86400))
                job = Generation(id=uuid.uuid4(), workspace=workspace, user=user, model=model, status=status,
                                 params={"prompt": rng.choice(PROMPTS), "seed": rng.randint(0, 10**6)}, source="web",
                                 price=1000, charged=1000 if status == "succeeded" else None, created_at=when,
                                 started_at=when, finished_at=when + timedelta(seconds=3), deadline_at=when,
                                 favorite=rng.random() < 0.02)
                jobs.append(job)
                if status == "succeeded":
                    folder = f"outputs/{when:%Y/%m}/{job.id}"
                    outputs.append(Output(generation=job, index=0, kind="image", mime="image/png",
                                          file=f"{folder}/0.png", thumbnail=f"{folder}/0-thumb.webp",
                                          web=f"{folder}/0-web.webp", size_bytes=200_000, width=1024, height=1024))
            Generation.objects.bulk_create(jobs)
            Output.objects.bulk_create(outputs)
    finally:
        created.auto_now_add = True


def _timed(client, url: str, repeat: int) -> tuple[float, int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches (templates, catalog) first
        client.get(url, HTTP_HX_REQUEST="true" if "updates" in url or "more" in url else None)
    samples = []
    body = ""
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url, **({"HTTP_HX_REQUEST": "true"} if "updates" in url or "more" in url else {}))
            samples.append(time.perf_counter() - began)
        assert response.status_code in (200, 204), (url, response.status_code)
        body = response.content.decode()
    return statistics.median(samples) * 1000, len(queries.captured_queries), body


def _measure(client, repeat: int) -> dict:
    first_ms, first_q, body = _timed(client, "/history/", repeat)
    more = re.search(r'hx-get="(/history/more\?[^"]+)"', body).group(1).replace("&amp;", "&")
    watch = re.search(r'id="history-watch" hidden hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")
    cards = len(re.findall(r'<article class="gen', body))
    next_ms, next_q, _ = _timed(client, more, repeat)
    watch_ms, watch_q, _ = _timed(client, watch, repeat)
    return {"first": (first_ms, first_q), "next": (next_ms, next_q), "watch": (watch_ms, watch_q), "cards": cards}


def run(backend: str, repeat: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from apps.accounts.models import User
    from apps.catalog.data import all_models
    from apps.catalog.models import AIModel
    from apps.catalog.services import catalog_sync

    call_command("migrate", verbosity=0)
    catalog_sync(entries=all_models())
    user = User.objects.create_user(email="bench@example.com", password=None)
    workspace = user.current_workspace or user.workspaces.first()
    models = list(AIModel.objects.filter(modality="image"))[:8]
    client = Client()
    client.force_login(user)
    results = {}
    done = 0
    for size in SIZES:
        _populate(workspace, user, models, done, size)
        done = size
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        results[size] = _measure(client, repeat)
        figures = results[size]
        print(f"{backend:<10} {size:>7,} jobs: first page {figures['first'][0]:6.1f} ms ({figures['first'][1]} queries, "
              f"{figures['cards']} cards)  next page {figures['next'][0]:6.1f} ms ({figures['next'][1]} queries)  "
              f"watch tick {figures['watch'][0]:5.1f} ms ({figures['watch'][1]} queries)   "
              f"(load avg {os.getloadavg()[0]:.1f})", flush=True)
    small, large = results[SIZES[0]], results[SIZES[1]]
    for name in ("first", "next", "watch"):
        ratio = large[name][0] / small[name][0]
        verdict = "ok" if ratio <= 1.3 else "OVER TARGET"
        print(f"{backend:<10} ratio 100k / 1k, {name + ' page' if name != 'watch' else 'watch tick':<11}: {ratio:4.2f}  "
              f"(target <= 1.3: {verdict})")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["pg", "sqlite", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--child", choices=["pg", "sqlite"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one backend per process: Django is configured once per process
        _django(args.database_url)
        run(args.child, args.repeat)
        return
    import subprocess

    print(f"History page server time; {os.cpu_count()} CPU cores; median of {args.repeat} requests each "
          f"(load avg {os.getloadavg()[0]:.1f})", flush=True)
    backends = ["sqlite", "pg"] if args.backend == "both" else [args.backend]
    for backend in backends:
        command = [sys.executable, __file__, "--child", backend, "--repeat", str(args.repeat)]
        server = None
        if backend == "pg":
            from tests.support.servers import start_postgres

            server = start_postgres()
            command += ["--database-url", server.url]
        try:
            subprocess.run(command, check=True, cwd=ROOT)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
