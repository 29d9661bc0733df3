"""A real Celery worker process sharing the test database, broker and media folder."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def process_env(extra: dict | None = None) -> dict:
    """The environment of a process that shares the test database (and broker, cache, storage)."""
    env = dict(os.environ)
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def stop_process_group(process: subprocess.Popen, *, timeout: float = 20.0):
    """SIGTERM a process started in its own session, children included; SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class WorkerProcess:
    def __init__(self, *, concurrency: int = 2, extra_env: dict | None = None, log_path: Path | None = None,
                 queues: str = "quick,long"):
        self.log_path = log_path or Path(settings.VAR_DIR) / f"worker-{time.time_ns()}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
             "--concurrency", str(concurrency), "--pool", "prefork", "-Q", queues, "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"test-{time.time_ns()}@%h"],
            cwd=ROOT, env=process_env(extra_env), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self):
        """SIGKILL the whole process group: the worker dies mid-task, like a crashed machine."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self):
        stop_process_group(self.process)
        self._log.close()


class BeatProcess:
    """Celery beat on the session's broker: it runs the sweeper every SWEEP_INTERVAL_SECONDS."""

    def __init__(self, *, extra_env: dict | None = None):
        stamp = time.time_ns()
        self.log_path = Path(settings.VAR_DIR) / f"beat-{stamp}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
             "--schedule", str(Path(settings.VAR_DIR) / f"beat-{stamp}.schedule")],
            cwd=ROOT, env=process_env(extra_env), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self):
        stop_process_group(self.process)
        self._log.close()


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
