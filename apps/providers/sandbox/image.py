"""The sandbox image engine: an abstract picture that follows the words of the prompt.

Deterministic for (prompt, seed, size): every random choice comes from a generator seeded
by a hash of the three. Colour words set the palette, mood words the background, shape
words the shapes; each other word adds a shape of its own, so different prompts give
visibly different compositions."""
from __future__ import annotations

import hashlib
import io
import random
import re

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS = {
    "red": (220, 50, 47), "crimson": (180, 20, 60), "orange": (240, 130, 40), "amber": (255, 190, 0),
    "yellow": (245, 220, 60), "gold": (212, 175, 55), "green": (60, 170, 80), "forest": (34, 100, 50),
    "teal": (0, 128, 128), "cyan": (40, 200, 220), "blue": (40, 90, 200), "ocean": (20, 80, 160),
    "sea": (30, 120, 170), "sky": (120, 180, 240), "navy": (20, 30, 90), "purple": (130, 60, 170),
    "violet": (150, 90, 220), "pink": (240, 120, 170), "magenta": (210, 40, 150), "brown": (120, 80, 40),
    "black": (20, 20, 24), "white": (240, 240, 236), "grey": (128, 128, 128), "gray": (128, 128, 128),
    "silver": (190, 195, 200), "sunset": (250, 110, 60), "fire": (230, 70, 20), "ice": (200, 230, 250),
    "night": (15, 20, 50), "grass": (90, 180, 60), "sand": (220, 200, 150), "snow": (250, 250, 255),
    "lava": (200, 40, 10), "rose": (230, 90, 120), "mint": (150, 230, 190), "cat": (200, 140, 80),
}
DARK_WORDS = {"night", "dark", "moody", "noir", "space", "midnight", "shadow", "storm", "gothic"}
LIGHT_WORDS = {"bright", "sunny", "morning", "pastel", "light", "day", "summer", "snow", "airy"}
SHAPE_WORDS = {
    "circle": "circle", "sun": "circle", "moon": "circle", "planet": "circle", "ball": "circle", "bubble": "circle",
    "square": "rect", "box": "rect", "building": "rect", "city": "rect", "house": "rect", "tower": "rect",
    "triangle": "triangle", "mountain": "triangle", "mountains": "triangle", "tree": "triangle", "pyramid": "triangle",
    "wave": "wave", "waves": "wave", "ocean": "wave", "sea": "wave", "river": "wave", "water": "wave",
    "star": "star", "stars": "star", "sparkle": "star", "line": "line", "lines": "line", "rain": "line",
}
SHAPES = ["circle", "rect", "triangle", "wave", "star", "line"]
# Things with a colour of their own, used unless the prompt names a colour for the scene.
OBJECT_COLOURS = {
    "sun": (250, 196, 60), "moon": (236, 234, 220), "star": (255, 238, 170), "stars": (255, 238, 170),
    "tree": (46, 120, 60), "forest": (34, 100, 50), "grass": (90, 180, 60), "mountain": (104, 106, 128),
    "mountains": (104, 106, 128), "sea": (30, 110, 170), "ocean": (24, 90, 160), "wave": (40, 130, 190),
    "waves": (40, 130, 190), "river": (60, 140, 200), "water": (50, 130, 200), "fire": (235, 90, 30),
    "snow": (248, 248, 255), "cloud": (232, 236, 242), "clouds": (232, 236, 242), "rain": (150, 170, 200),
    "city": (70, 72, 88), "building": (90, 92, 110), "tower": (110, 100, 96), "house": (170, 110, 80),
}


STOP_WORDS = {"a", "an", "the", "and", "or", "of", "in", "on", "at", "over", "under", "with", "by", "to", "for",
              "from", "is", "are", "its", "it", "into", "near", "above", "below", "very", "some"}


def _words(prompt: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    # Filler words would only add noise shapes; keep them if they are all there is.
    return [w for w in words if w not in STOP_WORDS] or words


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _palette(words: list[str], rng: random.Random) -> list[tuple[int, int, int]]:
    named = [COLOURS[w] for w in words if w in COLOURS]
    palette = list(dict.fromkeys(named))
    while len(palette) < 5:
        h = rng.random()
        palette.append(_hsv(h, 0.45 + rng.random() * 0.45, 0.55 + rng.random() * 0.4))
    return palette


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return int(r * 255), int(g * 255), int(b * 255)


def _background(width: int, height: int, top, bottom, words: set[str]) -> Image.Image:
    shade = 0.45 if words & DARK_WORDS else 1.25 if words & LIGHT_WORDS else 1.0
    top = np.clip(np.array(top, dtype=np.float32) * shade, 0, 255)
    bottom = np.clip(np.array(bottom, dtype=np.float32) * shade * 0.8, 0, 255)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    column = top[None, :] * (1 - ramp) + bottom[None, :] * ramp  # (height, 3)
    pixels = np.broadcast_to(column[:, None, :], (height, width, 3)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")


# Where each kind of shape sits in the scene (fraction of the height for its anchor) and in
# which order layers are painted: sky first, then the land on the horizon, water in front.
PLACEMENT = {"circle": (0.08, 0.4), "star": (0.03, 0.35), "line": (0.0, 1.0), "triangle": (0.55, 0.72),
             "rect": (0.5, 0.75), "wave": (0.62, 0.9)}
LAYER = {"star": 0, "circle": 1, "line": 2, "triangle": 3, "rect": 4, "wave": 5}


def _draw_shape(draw: ImageDraw.ImageDraw, kind: str, rng: random.Random, w: int, h: int, colour):
    size = int(min(w, h) * (0.08 + rng.random() * 0.3))
    low, high = PLACEMENT[kind]
    x, y = rng.randrange(w), int(h * (low + rng.random() * (high - low)))
    fill = colour + (int(120 + rng.random() * 135),)
    if kind == "circle":
        draw.ellipse([x - size, y - size, x + size, y + size], fill=fill)
    elif kind == "rect":
        ratio = 0.4 + rng.random() * 1.6
        draw.rectangle([x - size // 2, y - int(size * ratio * 2), x + size // 2, y], fill=fill)
    elif kind == "triangle":  # mountains and trees stand on the horizon line y
        draw.polygon([(x, y - 2 * size), (x - size, y), (x + size, y)], fill=fill)
    elif kind == "wave":
        amp, period = size * 0.3, max(8, size)
        phase = rng.random() * 6.28
        xs = np.arange(0, w + 8, 8)
        ys = y + amp * np.sin(xs / period * 6.28 + phase)
        points = list(zip(xs.tolist(), ys.tolist())) + [(w, h), (0, h)]
        draw.polygon(points, fill=fill)
    elif kind == "star":
        import math

        points = []
        for i in range(10):
            radius = size if i % 2 == 0 else size * 0.42
            angle = math.pi / 5 * i - math.pi / 2
            points.append((x + radius * math.cos(angle), y + radius * math.sin(angle)))
        draw.polygon(points, fill=fill)
    else:  # line
        width = max(2, size // 10)
        draw.line([(x, y), (x + rng.randint(-w // 2, w // 2), y + rng.randint(-h // 2, h // 2))], fill=fill, width=width)


def render_image(prompt: str, *, seed: int = 0, width: int = 1024, height: int = 1024) -> Image.Image:
    words = _words(prompt) or ["empty"]
    rng = _rng(prompt.strip().lower(), seed, width, height)
    palette = _palette(words, rng)
    image = _background(width, height, palette[0], palette[1 % len(palette)], set(words))
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    # One shape per word: named shapes where the word names one, else a shape picked by the word
    # itself; painted back to front by layer so the sun sits in the sky behind the sea.
    strokes = []
    for index, word in enumerate(words[:40]):
        kind = SHAPE_WORDS.get(word) or SHAPES[int(hashlib.md5(word.encode()).hexdigest(), 16) % len(SHAPES)]
        colour = COLOURS.get(word) or OBJECT_COLOURS.get(word) or palette[(index + 2) % len(palette)]
        strokes.append((LAYER[kind], index, word, kind, colour))
    for _, index, word, kind, colour in sorted(strokes):
        word_rng = _rng(word, seed, index, width, height)
        for _ in range(1 + (len(word) % 3)):
            _draw_shape(draw, kind, word_rng, width, height, colour)
    layer = layer.filter(ImageFilter.GaussianBlur(radius=max(1, min(width, height) // 400)))
    image.paste(layer, (0, 0), layer)
    return image


def render_png(prompt: str, *, seed: int = 0, width: int = 1024, height: int = 1024) -> bytes:
    buffer = io.BytesIO()
    render_image(prompt, seed=seed, width=width, height=height).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
