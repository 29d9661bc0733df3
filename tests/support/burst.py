"""Client processes for load tests: no Django here, so `spawn` children start clean and fast."""
from __future__ import annotations

import multiprocessing

import httpx


def _send(url: str, headers: dict, count: int, method: str, body, queue) -> None:
    statuses = []
    try:
        with httpx.Client(timeout=120) as http:
            for _ in range(count):
                response = http.request(method, url, headers=headers, json=body)
                statuses.append(response.status_code)
    finally:
        queue.put(statuses)


def burst(url: str, *, headers: dict, processes: int, per_process: int, method: str = "GET", body=None,
          timeout: float = 300) -> list[int]:
    """Status codes of processes x per_process requests sent as fast as each process can."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    children = [context.Process(target=_send, args=(url, headers, per_process, method, body, queue))
                for _ in range(processes)]
    for child in children:
        child.start()
    statuses = [status for _ in children for status in queue.get(timeout=timeout)]
    for child in children:
        child.join(timeout=30)
    return statuses
