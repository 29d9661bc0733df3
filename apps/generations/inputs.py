"""The workspace's own media among a job's inputs, resolved before each adapter call.

A user may give one of their outputs or uploads as a start frame or an image to
edit, by the URL the API or the studio handed out. Such a URL may have expired, may point at
loopback or a private bucket that the public-address check of server-side fetches refuses,
and must not be fetched over HTTP anyway: the file is read from storage. So each one found
in the params is replaced by a fresh short-lived link (for upstreams that take URLs) and
listed in `Job.sources` (for adapters that upload bytes; apps/providers/inputs.py).

A file counts as the job's own when it belongs to the job's workspace, or when its URL is a
still-valid local signed link (whoever holds one may read the file anyway)."""
from __future__ import annotations

from django.conf import settings

from .models import Generation
from .sources import SourceRefused, owned_file
from .storage import media_name_for_url, media_url


def _urls_in(value, found: dict) -> None:
    if isinstance(value, str):
        if value.startswith(("http://", "https://")) and value not in found:
            resolved = media_name_for_url(value)
            if resolved:
                found[value] = resolved
    elif isinstance(value, dict):
        for item in value.values():
            _urls_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _urls_in(item, found)


def _replaced(value, mapping: dict):
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, dict):
        return {key: _replaced(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, mapping) for item in value]
    return value


def _owned(name: str, workspace_id: int) -> bool:
    try:
        owned_file(name=name, workspace_id=workspace_id)
    except SourceRefused:
        return False
    return True


def job_inputs(*, generation: Generation) -> tuple[dict, dict]:
    """(params for the adapter, {URL in those params: storage name}) of one generation."""
    found: dict[str, tuple[str, bool]] = {}
    _urls_in(generation.params, found)
    if not found:
        return generation.params, {}
    mapping, sources = {}, {}
    for url, (name, valid) in found.items():
        if valid or _owned(name, generation.workspace_id):
            fresh = media_url(name, ttl=settings.MEDIA_SOURCE_URL_TTL)
            mapping[url], sources[fresh] = fresh, name
    return _replaced(generation.params, mapping), sources
