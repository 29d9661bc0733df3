"""Turn provider outputs into stored files: the original, a thumbnail and a web version."""
from __future__ import annotations

import io
import mimetypes

from django.core.files.base import ContentFile
from PIL import Image

from apps.providers.base import OutputFile

from .models import Generation, Output

THUMB_SIZE = (384, 384)
WEB_MAX = 1600
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4",
              "audio/mpeg": "mp3", "audio/wav": "wav", "audio/x-wav": "wav", "audio/ogg": "ogg"}


def _extension(mime: str) -> str:
    return EXTENSIONS.get(mime) or (mimetypes.guess_extension(mime) or ".bin").lstrip(".")


def _kind(mime: str) -> str:
    return mime.split("/", 1)[0] if mime.split("/", 1)[0] in {"image", "video", "audio"} else "image"


def webp_bytes(image: Image.Image, *, max_side: int, quality: int = 80) -> bytes:
    image = image.copy()
    image.thumbnail((max_side, max_side))
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=4)
    return buffer.getvalue()


def image_derivatives(data: bytes) -> tuple[bytes, bytes, int, int]:
    """(thumbnail webp, web webp, width, height) of an image; raises ValueError if it is not one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            return webp_bytes(image, max_side=THUMB_SIZE[0]), webp_bytes(image, max_side=WEB_MAX, quality=85), width, height
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"The upstream returned an unreadable image: {exc}") from exc


def outputs_store(*, generation: Generation, files: list[OutputFile]) -> list[Output]:
    """Store every main output (with derivatives); a 'cover' file becomes the previous output's cover."""
    stored: list[Output] = []
    index = generation.outputs.count()
    for produced in files:
        if produced.data is None:
            raise ValueError("Output has no bytes; URLs must be downloaded before storing.")
        if produced.role == "cover" and stored:
            stored[-1].cover.save(f"cover-{stored[-1].index}.webp", ContentFile(_to_webp_cover(produced.data)), save=True)
            continue
        output = Output(
            generation=generation, index=index, kind=_kind(produced.mime), mime=produced.mime,
            size_bytes=len(produced.data), width=produced.width, height=produced.height,
            duration=produced.duration, meta=produced.meta,
        )
        output.file.save(f"{index}.{_extension(produced.mime)}", ContentFile(produced.data), save=False)
        derivatives_for(output, produced)
        output.save()
        stored.append(output)
        index += 1
    return stored


def derivatives_for(output: Output, produced: OutputFile) -> None:
    """Images: a thumbnail and an optimized WebP."""
    if output.kind == "image":
        thumb, web, width, height = image_derivatives(produced.data)
        output.width, output.height = width, height
        output.thumbnail.save(f"{output.index}-thumb.webp", ContentFile(thumb), save=False)
        output.web.save(f"{output.index}-web.webp", ContentFile(web), save=False)


def _to_webp_cover(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return webp_bytes(image, max_side=WEB_MAX, quality=85)
