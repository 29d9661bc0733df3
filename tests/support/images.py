"""Image checks for tests: find one picture inside another (normalised cross-correlation)."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw


def data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def reference_ad(size: int = 512) -> Image.Image:
    """A plain ad layout: cream background, a dark headline bar at the top, a red product block."""
    image = Image.new("RGB", (size, size), (245, 238, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle([size // 10, size // 14, size * 9 // 10, size // 14 + size // 10], fill=(30, 40, 90))
    draw.rectangle([size * 3 // 10, size * 4 // 10, size * 7 // 10, size * 8 // 10], fill=(200, 40, 40))
    return image


def product_shot(size: int = 240) -> Image.Image:
    """A product picture with structure at every scale (a template match has something to lock on)."""
    image = Image.new("RGB", (size, size), (20, 160, 120))
    draw = ImageDraw.Draw(image)
    step = size // 6
    for row in range(6):
        for col in range(6):
            if (row + col) % 2:
                draw.rectangle([col * step, row * step, (col + 1) * step, (row + 1) * step], fill=(120, 30, 150))
    draw.ellipse([size // 4, size // 4, size * 3 // 4, size * 3 // 4], fill=(250, 220, 60))
    return image


def _ncc(image: np.ndarray, template: np.ndarray) -> float:
    h, w = template.shape
    centred = template - template.mean()
    norm = np.sqrt((centred ** 2).sum())
    if norm == 0:
        return 0.0
    shape = (image.shape[0] + h - 1, image.shape[1] + w - 1)
    corr = np.fft.irfft2(np.fft.rfft2(image, shape) * np.fft.rfft2(centred[::-1, ::-1], shape), shape)
    corr = corr[h - 1:image.shape[0], w - 1:image.shape[1]]
    integral = np.pad(image, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    squares = np.pad(image ** 2, ((1, 0), (1, 0))).cumsum(0).cumsum(1)

    def window(table):
        return table[h:, w:] - table[:-h, w:] - table[h:, :-w] + table[:-h, :-w]

    sums, sq = window(integral), window(squares)
    variance = np.maximum(sq - sums ** 2 / (h * w), 1e-6)
    return float((corr / (np.sqrt(variance) * norm)).max())


def template_match(haystack: Image.Image, needle: Image.Image, *, work: int = 256,
                   scales: list[float] | None = None) -> tuple[float, float]:
    """(score, scale): the best normalised correlation of `needle` anywhere in `haystack`, and the
    scale (needle pixels to haystack pixels) it was found at; a score near 1.0 means it is there.
    Without `scales`, sizes from 10% to 100% of the haystack's short side are tried."""
    factor = work / max(haystack.size)
    small = haystack.convert("L").resize((max(1, int(haystack.width * factor)), max(1, int(haystack.height * factor))))
    image = np.asarray(small, dtype=np.float64)
    if scales is None:
        short = min(haystack.size)
        scales = [short * fraction / max(needle.size) for fraction in np.linspace(0.1, 1.0, 46)]
    best = (-1.0, 0.0)
    for scale in scales:
        w, h = int(needle.width * scale * factor), int(needle.height * scale * factor)
        if w < 6 or h < 6 or w > image.shape[1] or h > image.shape[0]:
            continue
        template = np.asarray(needle.convert("L").resize((w, h)), dtype=np.float64)
        best = max(best, (_ncc(image, template), scale))
    return best
