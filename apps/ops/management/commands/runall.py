"""Run the Procfile's processes together in the foreground: granian (web), a Celery worker for
quick jobs, one for long jobs, and Celery beat.

Ctrl-C stops them all. A worker or beat that dies is restarted (jobs it held are handed on by
the sweeper); if the web server dies, or a process keeps dying, everything stops."""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.ops.procfile import procfile_commands

MAX_RESTARTS = 5


class Command(BaseCommand):
    help = "Start every process of the Procfile (web, quick and long workers, beat): the embedded default of `make run`."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=settings.ATELIER_ADDR)

    def handle(self, *args, addr, **options):
        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, ATELIER_ADDR=addr, ATELIER_VAR_DIR=str(var_dir))
        env.setdefault("WORKER_QUICK_CONCURRENCY", os.environ.get("WORKER_CONCURRENCY", "2"))
        # Every process writes its metrics here and /metrics adds them up; a fresh start
        # begins from zero (files of processes that are gone would otherwise count forever).
        metrics_dir = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(var_dir / "metrics")))
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        commands = procfile_commands(env=env)

        def start(name):
            return subprocess.Popen(commands[name], cwd=settings.BASE_DIR, env=env, start_new_session=True)

        processes = {name: start(name) for name in commands}
        self.stdout.write(self.style.SUCCESS(
            f"Atelier is up at http://{addr}/ ({', '.join(commands)}; Ctrl-C stops them all)"))
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        restarts = {name: 0 for name in commands}
        try:
            while not stopping:
                for name, process in list(processes.items()):
                    if process.poll() is None or stopping:
                        continue
                    if name == "web" or restarts[name] >= MAX_RESTARTS:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping the others")
                        stopping = True
                        break
                    restarts[name] += 1
                    self.stderr.write(f"{name} exited with {process.returncode}; restarting it ({restarts[name]})")
                    processes[name] = start(name)
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            deadline = time.time() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
