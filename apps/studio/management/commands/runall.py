"""Run the web server, one Celery worker and Celery beat together in the foreground.

Ctrl-C (or any one of them dying) stops all three."""
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start web + Celery worker + Celery beat (the embedded default of `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("ATELIER_ADDR", "127.0.0.1:8000"))

    def handle(self, *args, addr, **options):
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "config"]
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": celery + ["worker", "--loglevel", "INFO", "--concurrency", str(os.environ.get("WORKER_CONCURRENCY", 2))],
            "beat": celery + ["beat", "--loglevel", "INFO", "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
        }
        processes = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR, start_new_session=True)
                     for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"Atelier is up at http://{addr}/ (Ctrl-C stops web, worker and beat)"))
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping the others")
                        stopping = True
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
