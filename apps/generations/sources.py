"""Atelier's own files used as inputs: a workspace's uploads and outputs.

A model's image, audio or video field takes any URL. When that URL is one of Atelier's own
media URLs it is never fetched over HTTP (the public-address check would refuse it, and a
fetch would go around the workspace's privacy): at submit the file must belong to the
submitting workspace, and at run time its bytes are read from storage and handed to the
adapter as a data: URI, which every adapter and upstream input field takes.

`storage_name_for_url` is the single place that knows what Atelier's media URLs look like."""
from __future__ import annotations

import base64
import copy
import re
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

from .models import Generation, Output, Upload

# Inlined into the job as a data: URI; bigger files are refused as inputs (uploads are
# already capped lower, at UPLOAD_MAX_BYTES).
MAX_INLINE_BYTES = 64 * 1024 * 1024
_OUTPUT_NAME = re.compile(r"^outputs/\d{4}/\d{2}/(?P<generation>[0-9a-f-]{32,36})/[^/]+$")
_UPLOAD_NAME = re.compile(r"^uploads/(?P<workspace>\d+)/\d{4}/\d{2}/(?P<upload>[0-9a-f-]{32,36})/[^/]+$")


class SourceRefused(ValueError):
    """An Atelier URL that is not a file of this workspace (or cannot be used as an input)."""


def atelier_url(field_file) -> str:
    """The absolute Atelier URL of a stored file: what "use as input" and uploads hand out
    and what every input field accepts. Media URLs that become signed keep working as inputs:
    the recogniser below ignores the signature and checks the workspace instead."""
    url = field_file.url
    if url.startswith("/"):
        url = settings.SITE_URL.rstrip("/") + url
    return url


def _own_hosts() -> set[str]:
    hosts = {urlsplit(settings.SITE_URL).netloc.lower()}
    hosts.update(host.lower() for host in settings.ALLOWED_HOSTS if host and host != "*" and not host.startswith("."))
    return hosts


def storage_name_for_url(url: str) -> str | None:
    """The storage name behind one of Atelier's own media URLs, or None for any other URL.

    Today's media URLs are SITE_URL (or an allowed host) + MEDIA_URL + the storage name.
    Signed URLs carry their signature and expiry in the query string, which is ignored here:
    whether the file may be used is decided by the workspace that owns it, not by the link.
    This is the one place to adapt when media URLs change shape (a signed-media view on
    another path, an S3 domain)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"}:
        return None
    netloc = parts.netloc.lower()
    if netloc not in _own_hosts() and (parts.hostname or "").lower() not in _own_hosts():
        return None
    path = unquote(parts.path)
    if not path.startswith(settings.MEDIA_URL):
        return None
    name = path[len(settings.MEDIA_URL):]
    if not name or name.startswith("/") or any(segment in {"", ".", ".."} for segment in name.split("/")):
        return None
    return name


@dataclass(frozen=True)
class OwnedFile:
    name: str  # storage name
    mime: str
    kind: str  # image | video | audio


def owned_file(*, name: str, workspace_id: int) -> OwnedFile:
    """The workspace's upload or output stored under `name`; SourceRefused for anything else
    (another workspace's file, a deleted job's file, a name that was never stored)."""
    match = _UPLOAD_NAME.match(name)
    if match and int(match["workspace"]) == workspace_id:
        upload = Upload.objects.filter(pk=_uuid(match["upload"]), workspace_id=workspace_id).first()
        if upload is not None and name in (upload.file.name, upload.thumbnail.name):
            return OwnedFile(name=name, mime=upload.mime if name == upload.file.name else "image/webp", kind=upload.kind)
    match = _OUTPUT_NAME.match(name)
    if match:
        generation_id = _uuid(match["generation"])
        visible = Generation.objects.filter(pk=generation_id, workspace_id=workspace_id, deleted_at__isnull=True)
        if generation_id and visible.exists():
            for output in Output.objects.filter(generation_id=generation_id):
                if name == output.file.name:
                    return OwnedFile(name=name, mime=output.mime, kind=output.kind)
                if name in (output.web.name, output.thumbnail.name, output.cover.name):
                    return OwnedFile(name=name, mime="image/webp", kind="image")
    raise SourceRefused("This Atelier file is not in your workspace (or was deleted).")


def _uuid(text: str):
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


# ---- walking a model's input fields --------------------------------------------------------
def _map_urls(schema: dict, params: dict, change, *, in_place: bool = False) -> tuple[dict, dict[str, list[str]]]:
    """Apply `change(url) -> url` to every URL in the params' url, url_list and messages
    fields. Returns (new params, {field: [messages]}) with SourceRefused collected per field."""
    out = params if in_place else copy.deepcopy(params)
    errors: dict[str, list[str]] = {}

    def apply(field_name, url):
        try:
            return change(url)
        except SourceRefused as exc:
            errors.setdefault(field_name, []).append(str(exc))
            return url

    for spec in schema.get("fields", []):
        name, kind = spec["name"], spec["type"]
        value = out.get(name)
        if value in (None, "", []):
            continue
        if kind == "url" and isinstance(value, str):
            out[name] = apply(name, value)
        elif kind == "url_list" and isinstance(value, list):
            out[name] = [apply(name, item) if isinstance(item, str) else item for item in value]
        elif kind == "messages" and isinstance(value, list):
            for message in value:
                parts = message.get("content") if isinstance(message, dict) else None
                for part in parts if isinstance(parts, list) else []:
                    if isinstance(part, dict) and part.get("type") == "image_url":
                        image = part.get("image_url")
                        if isinstance(image, dict) and isinstance(image.get("url"), str):
                            image["url"] = apply(name, image["url"])
                        elif isinstance(image, str):
                            part["image_url"] = apply(name, image)
    return out, errors


def sources_check(*, schema: dict, params: dict, workspace_id: int) -> dict[str, list[str]]:
    """Per-field errors for Atelier URLs in `params` that are not files of this workspace."""
    def check(url):
        name = storage_name_for_url(url)
        if name is not None:
            owned_file(name=name, workspace_id=workspace_id)
        return url

    return _map_urls(schema, params, check, in_place=True)[1]  # `check` changes nothing


def sources_inline(*, schema: dict, params: dict, workspace_id: int) -> dict:
    """The params an adapter receives: Atelier URLs replaced by data: URIs of the workspace's
    files, read from storage. Other URLs are left for the adapter's public-address fetch.
    Raises SourceRefused (the job cannot run) when a file is gone or too large."""
    from django.core.files.storage import default_storage

    def inline(url):
        name = storage_name_for_url(url)
        if name is None:
            return url
        found = owned_file(name=name, workspace_id=workspace_id)
        try:
            if default_storage.size(found.name) > MAX_INLINE_BYTES:
                raise SourceRefused(f"This file is larger than {MAX_INLINE_BYTES // (1024 * 1024)} MB "
                                    "and cannot be used as an input.")
            with default_storage.open(found.name, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise SourceRefused("This Atelier file can no longer be read from storage.") from exc
        return f"data:{found.mime};base64,{base64.b64encode(data).decode('ascii')}"

    own: list[str] = []

    def spot(url):
        if storage_name_for_url(url) is not None:
            own.append(url)
        return url

    _map_urls(schema, params, spot, in_place=True)
    if not own:
        return params  # the common case, on every status poll: no copy, no storage read
    inlined, errors = _map_urls(schema, params, inline)
    if errors:
        raise SourceRefused(" ".join(message for messages in errors.values() for message in messages))
    return inlined
