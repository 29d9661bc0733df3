"""Run a callable from several OS processes, each with several threads, all started together.

Each process is forked after the parent closed its database connections, so every thread in
every child opens its own fresh connection to the live test database (pytest-django already
pointed the settings at it). `task(process, thread, i)` returns a label; labels are counted."""
from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections import Counter

from django.db import connection, connections


def _child(task, process_index, threads, per_thread, start, queue):
    counts: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(threads)

    def run(thread_index):
        try:
            gate.wait()
            for i in range(per_thread):
                label = task(process_index, thread_index, i)
                with lock:
                    counts[label] += 1
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connection.close()

    try:
        start.wait(timeout=60)
        workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    except Exception:
        errors.append(traceback.format_exc())
    queue.put((dict(counts), errors))


def race(task, *, processes: int, threads: int, per_thread: int, timeout: float = 120) -> Counter:
    context = multiprocessing.get_context("fork")
    connections.close_all()  # children must not share the parent's sockets
    for conn in connections.all():  # nor its connection pool (DB_POOL): each child makes its own
        if hasattr(conn, "close_pool"):
            conn.close_pool()
    queue = context.Queue()
    start = context.Barrier(processes)
    children = [
        context.Process(target=_child, args=(task, p, threads, per_thread, start, queue)) for p in range(processes)
    ]
    for child in children:
        child.start()
    total: Counter = Counter()
    errors: list[str] = []
    for _ in children:
        counts, child_errors = queue.get(timeout=timeout)
        total.update(counts)
        errors.extend(child_errors)
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0, f"child exited with {child.exitcode}"
    assert not errors, "\n".join(errors)
    return total


def scale(postgres: int, sqlite: int) -> int:
    """Full size on PostgreSQL; SQLite serialises writers, so it runs a smaller version."""
    return postgres if connection.vendor == "postgresql" else sqlite
