"""Engine benchmark: prints figures, asserts nothing.

(a) End-to-end jobs/s through 2 real Celery worker processes (PostgreSQL + Redis, the
    production stack) against the instant fake upstream (OpenAI images: adapter call, PNG
    storage, WebP thumbnail and web version, capture), beside the very same work done inline
    in one loop in this process, and their ratio (target >= 0.5).
(b) One worker process tracking 1,000 concurrent asynchronous upstream jobs (the fake
    Replicate API) that finish 30 s after submission: how many finished within two poll
    intervals of their upstream completion (target: all), and the worker's peak memory.

Run: .venv/bin/python bench/engine.py [--jobs 200] [--async-jobs 1000] [--job-seconds 30]
It starts its own PostgreSQL, Redis and fake upstream on free loopback ports."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import free_port, start_postgres, start_redis  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200, help="jobs for part (a), per mode")
    parser.add_argument("--async-jobs", type=int, default=1000, help="concurrent async jobs for part (b)")
    parser.add_argument("--job-seconds", type=float, default=30.0, help="upstream run time of part (b) jobs")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads of the part (b) worker process (16 measured no better: more GIL contention)")
    parser.add_argument("--skip-a", action="store_true")
    parser.add_argument("--skip-b", action="store_true")
    return parser.parse_args()


def setup_django(pg_url: str, redis_url: str, var_dir: str):
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)
    os.environ.setdefault("DB_POOL_MAX_SIZE", "32")
    os.environ.update(DATABASE_URL=pg_url, REDIS_URL=redis_url, ATELIER_VAR_DIR=var_dir,
                      DJANGO_SETTINGS_MODULE="config.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_fixtures(fake_url: str):
    from apps.accounts.models import User
    from apps.catalog.models import AIModel, Channel
    from apps.wallet.models import Wallet
    from apps.wallet.services import wallet_grant

    user = User.objects.create_user(email=f"bench{time.time_ns()}@example.com", password="x")
    wallet_grant(wallet=Wallet.objects.get(workspace=user.current_workspace), amount=10**12, reason="bench")
    schema = {"fields": [{"name": "prompt", "type": "text", "required": True}, {"name": "n", "type": "integer", "default": 1}]}
    image = AIModel.objects.create(slug="bench-image", name="Bench image", vendor="x", modality="image",
                                   schema=schema, pricing={"unit": "image", "credits": "1"},
                                   limits={"deadline_seconds": 600})
    image.routes.create(adapter="openai", upstream_model="gpt-image-1")
    slow = AIModel.objects.create(slug="bench-async", name="Bench async", vendor="x", modality="image",
                                  schema=schema, pricing={"unit": "image", "credits": "1"},
                                  limits={"deadline_seconds": 900})
    slow.routes.create(adapter="replicate", upstream_model="black-forest-labs/flux-schnell")
    for name, adapter, base in (("fake-openai", "openai", fake_url + "/v1"), ("fake-replicate", "replicate", fake_url + "/v1")):
        channel = Channel.objects.create(name=name, adapter=adapter, base_url=base, options={"timeout": 30})
        channel.api_key = "bench-key"
        channel.save()
    return user, image, slow


def submit_many(user, model, count, *, enqueue: bool):
    from apps.generations import services

    original = services._enqueue_run
    if not enqueue:
        services._enqueue_run = lambda gid, countdown=None: None
    try:
        return [services.generation_submit(user=user, workspace=user.current_workspace, model=model,
                                           raw_params={"prompt": f"bench job {i}"})[0].pk for i in range(count)]
    finally:
        services._enqueue_run = original


def wait_final(ids, timeout):
    from apps.generations.models import Generation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = Generation.objects.filter(pk__in=ids, status__in=Generation.PENDING).count()
        if pending == 0:
            return
        time.sleep(0.2)
    raise SystemExit(f"jobs did not finish within {timeout}s")


def part_a(user, model, jobs: int, env: dict):
    from apps.generations.models import Generation
    from apps.generations.services import generation_run

    # Inline: one loop, same adapter call, storage, thumbnails and capture, no broker.
    ids = submit_many(user, model, jobs, enqueue=False)
    started = time.perf_counter()
    for pk in ids:
        generation_run(generation_id=pk)
    inline_seconds = time.perf_counter() - started
    assert Generation.objects.filter(pk__in=ids, status="succeeded").count() == jobs
    inline_rate = jobs / inline_seconds

    workers = [start_worker(env, concurrency=1, name=f"a{i}") for i in range(2)]
    try:
        started = time.perf_counter()
        ids = submit_many(user, model, jobs, enqueue=True)
        wait_final(ids, timeout=600)
        worker_seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            stop(worker)
    ok = Generation.objects.filter(pk__in=ids, status="succeeded").count()
    worker_rate = jobs / worker_seconds
    print(f"(a) inline loop, 1 process:        {inline_rate:7.1f} jobs/s  ({jobs} jobs in {inline_seconds:.1f} s)")
    print(f"(a) 2 worker processes (submit+run): {worker_rate:7.1f} jobs/s  ({ok}/{jobs} succeeded in {worker_seconds:.1f} s)")
    print(f"(a) ratio workers/inline:          {worker_rate / inline_rate:7.2f}   (target >= 0.5)")


def part_b(user, model, count: int, job_seconds: float, fake, env: dict, threads: int):
    from apps.generations.models import Generation

    fake.config(job_seconds=job_seconds, instant=False)
    worker = start_worker(env, concurrency=threads, pool="threads", name="b")
    try:
        t0 = time.time()
        ids = submit_many(user, model, count, enqueue=True)
        submitted = time.time() - t0
        wait_final(ids, timeout=job_seconds * 6 + 120)
        peak_kb = peak_memory_kb(worker.pid)
    finally:
        stop(worker)
    # Upstream completion: the fake creates its job during our submit call, so it completes
    # job_seconds after that call started (attempt time minus its latency: the earliest it can be).
    from apps.generations.models import Attempt
    from apps.generations.services import MAX_POLL_DELAY, POLL_BACKOFF_RATIO

    submitted_at = {
        a.generation_id: a.created_at.timestamp() - a.latency_ms / 1000
        for a in Attempt.objects.filter(generation_id__in=ids, phase="submit", outcome="pending")
    }
    rows = Generation.objects.filter(pk__in=ids).values("pk", "status", "finished_at", "poll_count")
    # The poll interval a job has when its upstream completes (age ~ job_seconds).
    interval = min(max(1.0, job_seconds * POLL_BACKOFF_RATIO), MAX_POLL_DELAY)
    lags, within, polls = [], 0, 0
    for row in rows:
        polls += row["poll_count"]
        if row["status"] != "succeeded" or row["pk"] not in submitted_at:
            continue
        lag = row["finished_at"].timestamp() - (submitted_at[row["pk"]] + job_seconds)
        lags.append(lag)
        within += lag <= 2 * interval
    lags.sort()
    succeeded = sum(1 for r in rows if r["status"] == "succeeded")
    print(f"(b) {count} async jobs of {job_seconds:.0f} s, 1 worker process ({threads} threads); submitted in {submitted:.1f} s")
    print(f"(b) succeeded: {succeeded}/{count}; finished within two poll intervals ({2 * interval:.1f} s) of upstream completion: {within}/{count}")
    if lags:
        print(f"(b) lag after upstream completion: median {lags[len(lags) // 2]:.2f} s, p95 {lags[int(len(lags) * 0.95) - 1]:.2f} s, max {lags[-1]:.2f} s")
    print(f"(b) status polls: {polls} ({polls / max(count, 1):.1f} per job)")
    print(f"(b) worker peak memory (VmHWM): {peak_kb / 1024:.0f} MiB")


def start_worker(env: dict, *, concurrency: int, name: str, pool: str = "prefork"):
    import subprocess

    log = open(Path(env["ATELIER_VAR_DIR"]) / f"worker-{name}.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"), "--pool", pool,
         "--concurrency", str(concurrency), "-Q", "quick,long", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"bench-{name}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    time.sleep(3)
    if process.poll() is not None:
        raise SystemExit(f"worker {name} exited: see {log.name}")
    return process


def stop(process):
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except Exception:
            os.killpg(process.pid, signal.SIGKILL)


def peak_memory_kb(pid: int) -> int:
    """VmHWM of the process and its children (a prefork pool's children count too)."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def main():
    args = parse_args()
    var_dir = os.environ.get("BENCH_VAR_DIR") or tempfile.mkdtemp(prefix="atelier-bench-")
    postgres, redis = start_postgres(), start_redis()
    from tests.fakes.core import FakeUpstreamProcess

    fake = FakeUpstreamProcess(free_port(), instant=True, cwd=str(ROOT))
    try:
        fake_host = fake.url.split("//")[1]
        os.environ["SAFE_FETCH_ALLOW_HOSTS"] = fake_host
        setup_django(postgres.url, redis.url, var_dir)
        env = dict(os.environ)
        user, image, slow = make_fixtures(fake.url)
        print(f"stack: PostgreSQL + Redis, fake upstream at {fake.url}, {os.cpu_count()} cores")
        if not args.skip_a:
            part_a(user, image, args.jobs, env)
        if not args.skip_b:
            part_b(user, slow, args.async_jobs, args.job_seconds, fake, env, args.threads)
        from apps.wallet.audit import wallet_audit

        problems = wallet_audit()
        print(f"wallet_audit after the run: {'clean' if not problems else problems[:5]}")
    finally:
        fake.stop()
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
