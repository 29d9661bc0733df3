"""Wait for a job to end, for the surfaces that answer synchronously (OpenAI images and speech,
pollinations' GETs): the web thread re-reads the job's status with a growing interval until it
is final or the caller's bound passes. The job runs on the workers either way; a caller that
gives up leaves it running, to be read later by id."""
from __future__ import annotations

import time

from apps.core.db import connection_release

from .models import Generation

FIRST_INTERVAL = 0.05
MAX_INTERVAL = 0.5


def generation_wait(*, generation_id, timeout: float) -> bool:
    """True once the generation is final, False when `timeout` seconds passed first."""
    deadline = time.monotonic() + max(0.0, timeout)
    interval = FIRST_INTERVAL
    while True:
        status = Generation.objects.filter(pk=generation_id).values_list("status", flat=True).first()
        if status is None or status in Generation.FINAL:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        connection_release()
        time.sleep(min(interval, remaining))
        interval = min(interval * 1.5, MAX_INTERVAL)
