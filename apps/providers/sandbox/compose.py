"""The sandbox's multi-image composition: what it draws when an image request brings several images.

Models with multi-image input (Nano Banana, GPT Image, Seedream) fuse their inputs as the prompt
says; the ad workflow uses that to put a product into the layout of a reference ad. This engine
stands in for them deterministically, so the workflow makes a real picture with no upstream:

- the first image is the layout: its size-fitted copy is the canvas, its dominant colours the
  palette, and the region that stands out from its background (the largest one) the subject
  slot; a wide, flat region is taken as its headline band;
- the second image (and any further ones, side by side) replaces the subject in that slot, on
  a panel of the subject's colour, scaled to fit, never distorted, so it can be found again;
- quoted phrases of the prompt are set as text, as image models render quoted text: the first
  as the headline in the headline band (repainted in its own colour) or the calmest band at the
  top or bottom, the second as a button under the subject;
- a hash of the prompt and seed moves the subject and tints the canvas a little, so variants
  of one layout differ from each other."""
from __future__ import annotations

import hashlib
import io
import random
import re
from collections import deque
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

GRID = 48  # the layout is analysed on a GRID x GRID raster of cells
QUOTED = re.compile(r"[\"“”]([^\"“”]{1,160})[\"“”]")


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def scaled(self, sx: float, sy: float) -> Box:
        return Box(int(self.left * sx), int(self.top * sy), int(self.right * sx), int(self.bottom * sy))


def quoted_phrases(prompt: str) -> list[str]:
    return [match.strip() for match in QUOTED.findall(prompt or "") if match.strip()]


def _rng(prompt: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"compose\x1f{prompt.strip().lower()}\x1f{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def palette(image: Image.Image, colours: int = 5) -> list[tuple[int, int, int]]:
    """The layout's dominant colours, most frequent first."""
    small = image.convert("RGB").resize((64, 64))
    quantized = small.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    counts = sorted(quantized.getcolors() or [], reverse=True)
    flat = quantized.getpalette() or []
    return [tuple(flat[index * 3:index * 3 + 3]) for _, index in counts] or [(240, 240, 240)]


def _regions(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """4-connected regions of True cells, largest first."""
    seen = np.zeros_like(mask, dtype=bool)
    found = []
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        cells, queue = [], deque([(y, x)])
        seen[y, x] = True
        while queue:
            cy, cx = queue.popleft()
            cells.append((cy, cx))
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
        found.append(cells)
    return sorted(found, key=len, reverse=True)


def _box(cells: list[tuple[int, int]]) -> Box:
    ys, xs = [c[0] for c in cells], [c[1] for c in cells]
    return Box(min(xs), min(ys), max(xs) + 1, max(ys) + 1)


@dataclass
class Layout:
    background: tuple[int, int, int]
    subject: Box  # in canvas pixels
    headline: Box | None


def analyse_layout(canvas: Image.Image) -> Layout:
    """Background colour (the median of the border), the subject slot and the headline band."""
    cells = np.asarray(canvas.convert("RGB").resize((GRID, GRID), Image.Resampling.BOX), dtype=np.float32)
    border = np.concatenate([cells[0], cells[-1], cells[:, 0], cells[:, -1]])
    background = np.median(border, axis=0)
    distance = np.sqrt(((cells - background) ** 2).sum(axis=2))
    mask = distance > max(40.0, float(np.percentile(distance, 60)))
    sx, sy = canvas.width / GRID, canvas.height / GRID
    subject, headline = None, None
    for cells_of in _regions(mask):
        box = _box(cells_of)
        if len(cells_of) < 4:
            break
        flat = box.width >= 3 * box.height and box.height <= GRID // 5
        if flat and headline is None:
            headline = box
        elif not flat and subject is None:
            subject = box
        if subject and headline:
            break
    if subject is None:  # nothing stands out: the middle of the layout
        subject = Box(GRID // 4, GRID // 4, GRID * 3 // 4, GRID * 3 // 4)
    bg = tuple(int(v) for v in background)
    return Layout(bg, subject.scaled(sx, sy), headline.scaled(sx, sy) if headline else None)


def _contrast(colour, candidates) -> tuple[int, int, int]:
    def luminance(c):
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    best = max(candidates, key=lambda c: abs(luminance(c) - luminance(colour)))
    if abs(luminance(best) - luminance(colour)) < 90:
        return (20, 20, 24) if luminance(colour) > 128 else (250, 250, 248)
    return best


def _fit_text(draw: ImageDraw.ImageDraw, text: str, box: Box) -> ImageFont.FreeTypeFont:
    size = max(10, int(box.height * 0.7))
    while size > 10:
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= box.width * 0.92 and bottom - top <= box.height * 0.9:
            return font
        size = int(size * 0.9)
    return ImageFont.load_default(size=10)


def _draw_text(draw: ImageDraw.ImageDraw, text: str, box: Box, fill, *, background=None, radius: int = 0):
    if background is not None:
        draw.rounded_rectangle([box.left, box.top, box.right, box.bottom], radius=radius, fill=background)
    font = _fit_text(draw, text, box)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = box.left + (box.width - (right - left)) // 2 - left
    y = box.top + (box.height - (bottom - top)) // 2 - top
    draw.text((x, y), text, font=font, fill=fill)


def _inserts_strip(inserts: list[Image.Image]) -> Image.Image:
    """Several inserts side by side (one image stays as it is)."""
    if len(inserts) == 1:
        return inserts[0]
    height = max(image.height for image in inserts)
    scaled = [image.resize((max(1, image.width * height // image.height), height)) for image in inserts]
    strip = Image.new("RGB", (sum(i.width for i in scaled) + 16 * (len(scaled) - 1), height), (255, 255, 255))
    x = 0
    for image in scaled:
        strip.paste(image, (x, 0))
        x += image.width + 16
    return strip


def _region_colour(canvas: Image.Image, box: Box) -> tuple[int, int, int]:
    crop = np.asarray(canvas.crop((box.left, box.top, box.right, box.bottom)).convert("RGB"), dtype=np.float32)
    return tuple(int(v) for v in np.median(crop.reshape(-1, 3), axis=0))


def compose_png(layout_image: Image.Image, inserts: list[Image.Image], prompt: str, *, seed: int, width: int,
                height: int) -> bytes:
    rng = _rng(prompt, seed)
    canvas = ImageOps.fit(layout_image.convert("RGB"), (width, height), method=Image.Resampling.BICUBIC)
    layout = analyse_layout(canvas)
    colours = palette(canvas)
    slot, band = layout.subject, layout.headline
    draw = ImageDraw.Draw(canvas)
    # The reference's own subject and headline give way to plain panels in their own colours, so
    # its layout and palette stay while its product and words go.
    panel = _region_colour(canvas, slot)
    draw.rectangle([slot.left, slot.top, slot.right, slot.bottom], fill=panel)
    band_colour = _region_colour(canvas, band) if band else None
    if band:
        draw.rectangle([band.left, band.top, band.right, band.bottom], fill=band_colour)
    # A light wash of one palette colour: variants of one layout differ, the layout still shows.
    wash = Image.new("RGB", canvas.size, colours[rng.randrange(len(colours))])
    canvas = Image.blend(canvas, wash, 0.06 + rng.random() * 0.12)
    draw = ImageDraw.Draw(canvas)
    product = _inserts_strip([image.convert("RGB") for image in inserts])
    scale = min(slot.width / product.width, slot.height / product.height) * (0.72 + rng.random() * 0.22)
    size = (max(8, int(product.width * scale)), max(8, int(product.height * scale)))
    product = product.resize(size, Image.Resampling.LANCZOS)
    x = slot.left + int((slot.width - size[0]) * rng.random())
    y = slot.top + int((slot.height - size[1]) * rng.random())
    canvas.paste(product, (x, y))
    phrases = quoted_phrases(prompt)
    if phrases:
        where = band or _calm_band(canvas, slot)
        behind = _region_colour(canvas, where)
        _draw_text(draw, phrases[0], where, _contrast(behind, colours + [layout.background]))
    if len(phrases) > 1:
        below = min(height - 4, max(y + size[1], slot.bottom) + height // 40)
        button_height = max(24, height // 14)
        button = Box(width // 2 - width // 5, below, width // 2 + width // 5, min(height - 2, below + button_height))
        if button.height >= 16:
            accent = band_colour or _contrast(layout.background, colours)
            _draw_text(draw, phrases[1], button, _contrast(accent, colours + [layout.background]), background=accent,
                       radius=button.height // 3)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _calm_band(canvas: Image.Image, slot: Box) -> Box:
    """The top or bottom band (whichever the subject leaves more room in) for a headline."""
    height = canvas.height
    band = max(24, height // 7)
    if slot.top >= height - slot.bottom:
        top = max(4, (slot.top - band) // 2)
    else:
        top = min(height - band - 4, slot.bottom + (height - slot.bottom - band) // 2)
    return Box(canvas.width // 16, top, canvas.width - canvas.width // 16, top + band)
