"""Start real PostgreSQL and Redis servers on free loopback ports for the test session.

Each start_* returns a handle with .url and .stop(); when the binary is missing it raises
ServerUnavailable with the reason (tests skip on it, and under CI=true fail)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class ServerUnavailable(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServerUnavailable(f"nothing listened on port {port} within {timeout}s")


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class Server:
    url: str
    process: subprocess.Popen | None
    workdir: str
    stop_cmd: list[str] | None = None

    def stop(self):
        if self.stop_cmd:
            subprocess.run(self.stop_cmd, capture_output=True, timeout=30)
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: drop to the postgres system user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


def start_postgres(max_connections: int = 200) -> Server:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise ServerUnavailable("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    workdir = tempfile.mkdtemp(prefix="atelier-pg-")
    os.chmod(workdir, 0o777)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    data = str(Path(workdir) / "data")
    port = free_port()
    result = subprocess.run(
        _as_postgres_user([initdb, "-D", data, "-U", "atelier", "--auth=trust", "-E", "UTF8", "--no-sync"]),
        capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise ServerUnavailable(f"initdb failed: {result.stderr[-500:]}")
    options = (f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={workdir} "
               f"-c max_connections={max_connections} -c fsync=off -c synchronous_commit=off "
               f"-c full_page_writes=off -c shared_buffers=128MB")
    result = subprocess.run(
        _as_postgres_user([pg_ctl, "-D", data, "-o", options, "-l", str(Path(workdir) / "log"), "-w", "start"]),
        capture_output=True, text=True, timeout=60,
    )
    if result.returncode != 0:
        raise ServerUnavailable(f"pg_ctl start failed: {result.stderr[-500:]}")
    _wait_for_port(port)
    stop = _as_postgres_user([pg_ctl, "-D", data, "-m", "immediate", "stop"])
    return Server(url=f"postgres://atelier@127.0.0.1:{port}/postgres", process=None, workdir=workdir, stop_cmd=stop)


def start_redis() -> Server:
    binary = shutil.which("redis-server")
    if not binary:
        raise ServerUnavailable("redis-server is not installed (Debian package redis-server)")
    workdir = tempfile.mkdtemp(prefix="atelier-redis-")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port)
    return Server(url=f"redis://127.0.0.1:{port}/0", process=process, workdir=workdir)


def missing(reason: str):
    """Skip a test for a missing binary, except under CI=true where that is a failure."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required server unavailable under CI: {reason}")
    pytest.skip(reason)
