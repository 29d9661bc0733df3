"""Input media an adapter sends upstream (start frames, images to edit, masks, references).

The generations app resolves, before every adapter call, the URLs in a job's params that
name the workspace's own media: it swaps each for a fresh short-lived signed link (what an
upstream that takes URLs receives) and lists it in `job.sources` with its storage name. An
adapter whose upstream takes uploads asks `source_bytes()` for the bytes: own media is read
from storage, never fetched over HTTP; anything else is downloaded as a user URL."""
from __future__ import annotations

import base64
import mimetypes

from django.core.files.storage import default_storage

from . import http
from .base import InvalidInput, Job, TransientError


def own_source_bytes(job: Job, url: str, *, field: str = "image_url",
                     max_bytes: int = http.MAX_SOURCE_BYTES) -> tuple[bytes, str] | None:
    """(bytes, content type) of own media named by `url`, read from storage; None if it is not own media."""
    name = job.sources.get(url) if isinstance(url, str) else None
    if name is None:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InvalidInput(f"{field}: that file no longer exists.", code="invalid_source_url") from None
    except OSError as exc:  # the storage (disk, S3) is unavailable: trying again later may work
        raise TransientError(f"{field}: could not read the file from storage ({exc})") from exc
    if len(data) > max_bytes:
        raise InvalidInput(f"{field}: the file is larger than {max_bytes // (1024 * 1024)} MB.",
                           code="invalid_source_url")
    return data, mimetypes.guess_type(name)[0] or "application/octet-stream"


def source_bytes(job: Job, url: str, *, field: str = "image_url",
                 max_bytes: int = http.MAX_SOURCE_BYTES) -> tuple[bytes, str]:
    """(bytes, content type) of an input: own media from storage, any other URL downloaded
    through safe_http (public addresses only, size-capped)."""
    own = own_source_bytes(job, url, field=field, max_bytes=max_bytes)
    if own is not None:
        return own
    return http.fetch_source(url, max_bytes=max_bytes, field=field)


def _mapped(value, mapping):
    if isinstance(value, str):
        return mapping(value)
    if isinstance(value, dict):
        return {key: _mapped(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [_mapped(item, mapping) for item in value]
    return value


def inline_sources(job: Job, *, max_bytes: int = http.MAX_SOURCE_BYTES) -> dict:
    """The job's params with own media as data: URIs, for readers that take those (the sandbox, Gemini)."""
    if not job.sources:
        return job.params

    def inline(value: str) -> str:
        own = own_source_bytes(job, value, max_bytes=max_bytes)
        if own is None:
            return value
        data, mime = own
        return f"data:{mime};base64,{base64.b64encode(data).decode()}"

    return _mapped(job.params, inline)


def stable_params(job: Job) -> dict:
    """The job's params with own media named by storage name: the same on every call, unlike the
    fresh links (for anything that fingerprints a job across submit and poll)."""
    if not job.sources:
        return job.params
    return _mapped(job.params, lambda value: job.sources.get(value, value))
