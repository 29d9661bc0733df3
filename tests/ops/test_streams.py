"""The default web server configuration holds at least 200 open SSE streams at once.

WSGI holds a blocking thread per open stream, so this checks the shipped numbers (WEB_WORKERS x
WEB_THREADS and granian's connection backpressure, through the same argv `manage.py serve`
builds) with an app whose streams stay open until released: every stream must have its first
event while all of them are still open."""
import os
import socket
import subprocess
import time
from pathlib import Path

from django.conf import settings

from apps.ops.management.commands.serve import granian_argv
from tests.support.servers import free_port

STREAMS = 220
ROOT = Path(__file__).resolve().parents[2]


def test_default_configuration_holds_220_open_streams(tmp_path):
    port = free_port()
    release = tmp_path / "release"
    argv = granian_argv(addr=f"127.0.0.1:{port}", workers=settings.WEB_WORKERS, threads=settings.WEB_THREADS,
                        backpressure=settings.WEB_BACKPRESSURE)
    argv[argv.index("config.wsgi:application")] = "tests.ops.stream_app:application"
    # The kernel does not share connections out evenly between workers: each must hold them all.
    assert settings.WEB_THREADS >= STREAMS
    server = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, "STREAM_RELEASE_FILE": str(release)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    sockets = []
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline and server.poll() is None, "granian did not start"
                time.sleep(0.2)
        for _ in range(STREAMS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(b"GET /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            sockets.append(sock)
        opened = 0
        for sock in sockets:
            received = b""
            while b"data: open" not in received:
                chunk = sock.recv(4096)
                assert chunk, "a stream closed before its first event"
                received += chunk
            assert b"[DONE]" not in received
            opened += 1
        assert opened == STREAMS  # all open at once: none has been released yet
        release.touch()
        for sock in sockets:
            received = b""
            while b"[DONE]" not in received:
                chunk = sock.recv(4096)
                assert chunk
                received += chunk
    finally:
        for sock in sockets:
            sock.close()
        server.terminate()
        server.wait(timeout=30)
