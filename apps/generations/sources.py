"""Atelier's own files used as inputs: a workspace's uploads and outputs.

A model's image, audio or video field takes any URL. When that URL is one of Atelier's own
media URLs (`storage.media_url`, signed and expiring) it is never fetched over HTTP (the
public-address check would refuse it, and a fetch would go around the workspace's privacy):
at submit the file must belong to the submitting workspace (or the link must still be valid:
whoever holds one may read the file anyway), and at run time `inputs.job_inputs` hands the
adapter a fresh link and the storage name.

`storage.media_name_for_url` is the single place that knows what Atelier's media URLs look like."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from .models import Generation, Output, Upload
from .storage import media_name_for_url

_OUTPUT_NAME = re.compile(r"^outputs/\d{4}/\d{2}/(?P<generation>[0-9a-f-]{32,36})/[^/]+$")
_UPLOAD_NAME = re.compile(r"^uploads/(?P<workspace>\d+)/\d{4}/\d{2}/(?P<upload>[0-9a-f-]{32,36})/[^/]+$")


class SourceRefused(ValueError):
    """An Atelier URL that is not a file of this workspace (or cannot be used as an input)."""


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
def _urls(schema: dict, params: dict):
    """(field name, URL) for every URL in the params' url, url_list and messages fields."""
    for spec in schema.get("fields", []):
        name, kind = spec["name"], spec["type"]
        value = params.get(name)
        if kind == "url" and isinstance(value, str):
            yield name, value
        elif kind == "url_list" and isinstance(value, list):
            yield from ((name, item) for item in value if isinstance(item, str))
        elif kind == "messages" and isinstance(value, list):
            for message in value:
                parts = message.get("content") if isinstance(message, dict) else None
                for part in parts if isinstance(parts, list) else []:
                    if isinstance(part, dict) and part.get("type") == "image_url":
                        image = part.get("image_url")
                        url = image.get("url") if isinstance(image, dict) else image
                        if isinstance(url, str):
                            yield name, url


def sources_check(*, schema: dict, params: dict, workspace_id: int) -> dict[str, list[str]]:
    """Per-field errors for Atelier URLs in `params` that are not files of this workspace
    (a still-valid signed link is let through: its holder may read the file anyway)."""
    errors: dict[str, list[str]] = {}
    for name, url in _urls(schema, params):
        found = media_name_for_url(url)
        if found is None or found[1]:
            continue
        try:
            owned_file(name=found[0], workspace_id=workspace_id)
        except SourceRefused as exc:
            errors.setdefault(name, []).append(str(exc))
    return errors
