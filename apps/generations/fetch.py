"""Download provider outputs given as URLs: size-capped, type-checked, public addresses only."""
from __future__ import annotations

from dataclasses import replace

import httpx

from apps.providers.base import OutputFile, TransientError
from apps.providers.safe_http import FetchRefused, safe_get

MAX_OUTPUT_BYTES = 512 * 1024 * 1024
ALLOWED_PREFIXES = ("image/", "video/", "audio/")


def outputs_download(files: list[OutputFile]) -> list[OutputFile]:
    ready = []
    for produced in files:
        if produced.data is not None:
            ready.append(produced)
            continue
        if not produced.url:
            raise ValueError("An output has neither bytes nor a URL.")
        try:
            body, mime = safe_get(produced.url, max_bytes=MAX_OUTPUT_BYTES)
        except FetchRefused as exc:
            raise ValueError(f"Output download refused: {exc}") from exc
        except (OSError, httpx.HTTPError) as exc:
            raise TransientError(f"Output download failed: {exc}") from exc
        mime = (produced.mime or mime or "").split(";")[0].strip()
        if not mime.startswith(ALLOWED_PREFIXES):
            raise ValueError(f"Output has an unexpected content type {mime!r}.")
        ready.append(replace(produced, data=body, mime=mime, url=None))
    return ready
