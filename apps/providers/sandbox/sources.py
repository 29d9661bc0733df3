"""Source media given by users (start/end frames): fetched or decoded defensively.

A source arrives as an http(s) URL, fetched through safe_http (public addresses only, size
capped), or as a data: URI decoded here. Anything that is not a reasonable image becomes
InvalidInput: the request cannot succeed on any channel as it is."""
from __future__ import annotations

import base64
import binascii
import io
import struct
from urllib.parse import unquote_to_bytes

import httpx
from PIL import Image, ImageOps

from ..base import InvalidInput
from ..safe_http import FetchRefused, safe_get

MAX_SOURCE_BYTES = 20 * 1024 * 1024
# Checked before decoding so a tiny compressed file cannot expand into gigabytes of pixels.
MAX_SOURCE_PIXELS = 40_000_000
ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF", "BMP"}


def _data_uri_bytes(uri: str, label: str) -> bytes:
    header, comma, payload = uri.partition(",")
    if not comma or not header.startswith("data:"):
        raise InvalidInput(f"{label} is not a valid data: URI.")
    if not header[5:].lower().startswith("image/"):
        raise InvalidInput(f"{label} must be an image (got {header[5:].split(';')[0] or 'no type'}).")
    # base64 needs 4 characters per 3 bytes, so this bounds the decoded size before decoding.
    if len(payload) > MAX_SOURCE_BYTES * 4 // 3 + 4:
        raise InvalidInput(f"{label} is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MB.")
    try:
        if header.lower().endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{label} has broken base64 data.") from exc


def _fetch(url: str, label: str) -> bytes:
    try:
        body, _content_type = safe_get(url, max_bytes=MAX_SOURCE_BYTES)
    except FetchRefused as exc:
        raise InvalidInput(f"{label} cannot be fetched: {exc}") from exc
    except (httpx.HTTPError, OSError) as exc:
        raise InvalidInput(f"{label} could not be downloaded: {exc}") from exc
    return body


def load_image(url: str, *, label: str = "Image") -> Image.Image:
    """The image at `url` (http(s) or data:) as RGB, EXIF orientation applied."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(f"{label} is empty.")
    url = url.strip()
    data = _data_uri_bytes(url, label) if url.startswith("data:") else _fetch(url, label)
    if not data:
        raise InvalidInput(f"{label} is empty.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ALLOWED_FORMATS:
                raise InvalidInput(f"{label} must be PNG, JPEG, WebP, GIF or BMP (got {image.format}).")
            width, height = image.size
            if width < 8 or height < 8:
                raise InvalidInput(f"{label} is too small ({width}x{height}); 8x8 pixels at least.")
            if width * height > MAX_SOURCE_PIXELS:
                raise InvalidInput(f"{label} has too many pixels ({width}x{height}).")
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, (0, 0, 0))
                flat.paste(image, mask=image.getchannel("A"))
                return flat
            return image.convert("RGB")
    except InvalidInput:
        raise
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, struct.error,
            Image.DecompressionBombError) as exc:  # what Pillow raises on malformed files
        raise InvalidInput(f"{label} is not a readable image: {exc}") from exc
