"""The image format a person asked for is the format they get.

Models with an `output_format` field (png, jpeg, webp) promise it on the form; an upstream
or the sandbox that answers in another format is converted here, before storing, so a FLUX
job asked for WebP is stored and downloaded as WebP."""
from __future__ import annotations

import io
from dataclasses import replace

from PIL import Image

from apps.providers.base import OutputFile

FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "jpg": ("JPEG", "image/jpeg"),
           "webp": ("WEBP", "image/webp")}


def _quality(params: dict) -> int:
    try:
        return max(1, min(100, int(params.get("output_compression") or params.get("output_quality") or 90)))
    except (TypeError, ValueError):
        return 90


def outputs_in_requested_format(files: list[OutputFile], params: dict) -> list[OutputFile]:
    wanted = FORMATS.get(str(params.get("output_format") or "").lower())
    if wanted is None:
        return files
    pil_format, mime = wanted
    converted = []
    for produced in files:
        if produced.role != "main" or not produced.mime.startswith("image/") or produced.mime == mime or not produced.data:
            converted.append(produced)
            continue
        try:
            with Image.open(io.BytesIO(produced.data)) as image:
                image.load()
                if pil_format == "JPEG" and image.mode not in ("RGB", "L"):
                    flat = Image.new("RGB", image.size, (255, 255, 255))
                    rgba = image.convert("RGBA")
                    flat.paste(rgba, mask=rgba.getchannel("A"))
                    image = flat
                elif image.mode not in ("RGB", "RGBA", "L"):
                    image = image.convert("RGBA")
                buffer = io.BytesIO()
                image.save(buffer, format=pil_format, quality=_quality(params))
        except (OSError, ValueError):
            converted.append(produced)  # unreadable: media.py refuses it with a clear error
            continue
        converted.append(replace(produced, data=buffer.getvalue(), mime=mime))
    return converted
