"""Run the web server, one Celery worker and Celery beat together in the foreground.

Ctrl-C stops all three. A worker or beat that dies is restarted (jobs it held are handed on
by the sweeper); if the web server dies, or a process keeps dying, everything stops."""
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


MAX_RESTARTS = 5


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
                    processes[name] = subprocess.Popen(commands[name], cwd=settings.BASE_DIR, start_new_session=True)
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
