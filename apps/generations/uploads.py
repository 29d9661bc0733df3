"""Uploads: members' own images, clips and tracks, stored like outputs and owned by the workspace.

The studio's drop zones and the API's `POST /v1/uploads` call `upload_create`. The
file's type is decided by its content (magic bytes, then a full decode with the same
defensive decoders as provider outputs), never by its name or the client's Content-Type.
The answer's URL (`storage.media_url`) is accepted by every input field: the input resolver in
inputs.py reads it from storage instead of fetching it."""
from __future__ import annotations

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from apps.core.errors import Kind

from .errors import UploadError
from .media import THUMB_SIZE, audio_duration, video_probe, webp_bytes
from .models import Upload
from .storage import media_url

MAX_PIXELS = 40_000_000
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif",
              "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm", "audio/mpeg": "mp3",
              "audio/wav": "wav", "audio/ogg": "ogg", "audio/flac": "flac", "audio/mp4": "m4a"}
ACCEPTED = "PNG, JPEG, WebP or GIF images, MP4, MOV or WebM videos, MP3, WAV, OGG, FLAC or M4A audio"


def max_upload_bytes() -> int:
    return settings.UPLOAD_MAX_MB * 1024 * 1024


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes announce (to be confirmed by decoding), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video/webm"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return None


def _read(file: UploadedFile) -> bytes:
    limit = max_upload_bytes()
    if file.size is not None and file.size > limit:
        raise UploadError("upload_too_large", f"Files can be at most {settings.UPLOAD_MAX_MB} MB.", kind=Kind.TOO_LARGE)
    chunks, total = [], 0
    for chunk in file.chunks():
        total += len(chunk)
        if total > limit:
            raise UploadError("upload_too_large", f"Files can be at most {settings.UPLOAD_MAX_MB} MB.", kind=Kind.TOO_LARGE)
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise UploadError("upload_empty", "The file is empty.")
    return data


def _inspect(data: bytes) -> dict:
    """Kind, MIME, size facts and a thumbnail of an untrusted file; UploadError if it is not
    a readable image, video or audio file of an accepted type."""
    mime = sniff(data[:16])
    if mime is None:
        raise UploadError("upload_unsupported_type", f"This file type is not accepted. Upload {ACCEPTED}.", kind=Kind.UNSUPPORTED_MEDIA)
    kind = mime.split("/", 1)[0]
    try:
        if kind == "image":
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in {"PNG", "JPEG", "WEBP", "GIF"}:
                    raise ValueError(image.format)
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise UploadError("upload_too_large", f"Images can have at most {MAX_PIXELS // 1_000_000} megapixels.",
                                      kind=Kind.TOO_LARGE)
                image.load()
                return {"kind": kind, "mime": mime, "width": width, "height": height,
                        "thumbnail": webp_bytes(image, max_side=THUMB_SIZE[0])}
        if kind == "video":
            try:
                info = video_probe(data)
            except ValueError:
                if mime != "video/mp4":
                    raise
                # An MP4 container with sound only is an audio file (voice memos, m4a without the brand).
                return {"kind": "audio", "mime": "audio/mp4", "duration": audio_duration(data)}
            return {"kind": kind, "mime": mime, "width": info.width, "height": info.height, "duration": info.duration,
                    "thumbnail": webp_bytes(info.poster, max_side=THUMB_SIZE[0])}
        return {"kind": kind, "mime": mime, "duration": audio_duration(data)}
    except UploadError:
        raise
    except (ValueError, OSError, SyntaxError, Image.DecompressionBombError):
        noun = {"image": "an image", "video": "a video", "audio": "an audio file"}[kind]
        raise UploadError("upload_unreadable", f"This file looks like {noun} but cannot be read. Upload {ACCEPTED}.") from None


def upload_create(*, user, workspace, file: UploadedFile) -> Upload:
    """Check and store one uploaded file for `workspace`. Raises UploadError (nothing stored)."""
    data = _read(file)
    facts = _inspect(data)
    upload = Upload(
        id=uuid.uuid4(), workspace=workspace, user=user, kind=facts["kind"], mime=facts["mime"],
        original_name=(file.name or "")[:255], size_bytes=len(data), width=facts.get("width"),
        height=facts.get("height"), duration=facts.get("duration"), created_at=timezone.now(),
    )
    # Files first, then the row: a crash in between leaves an unreferenced file, never a row
    # pointing at nothing. The database write is one short INSERT.
    upload.file.save(f"original.{EXTENSIONS[upload.mime]}", ContentFile(data), save=False)
    if facts.get("thumbnail"):
        upload.thumbnail.save("thumb.webp", ContentFile(facts["thumbnail"]), save=False)
    try:
        with transaction.atomic():
            upload.save(force_insert=True)
    except Exception:
        upload.file.delete(save=False)
        if upload.thumbnail:
            upload.thumbnail.delete(save=False)
        raise
    return upload


def upload_url(upload: Upload) -> str:
    """The Atelier URL to put in any input field (read from storage when a job uses it)."""
    return media_url(upload.file)
