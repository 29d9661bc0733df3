"""The sandbox image engine: deterministic, prompt-driven, at the requested size."""
import io

import numpy as np
from PIL import Image

from apps.providers.sandbox.image import render_png


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def test_same_prompt_seed_and_size_give_identical_bytes():
    assert render_png("a lighthouse in fog", seed=3, width=640, height=480) == render_png(
        "a lighthouse in fog", seed=3, width=640, height=480)


def test_requested_size_is_honoured():
    image = Image.open(io.BytesIO(render_png("anything", width=1536, height=1024)))
    assert image.size == (1536, 1024) and image.format == "PNG"


def test_different_prompts_and_seeds_look_different():
    base = pixels(render_png("a sun over the ocean", seed=1, width=256, height=256))
    other_prompt = pixels(render_png("a city of towers at night", seed=1, width=256, height=256))
    other_seed = pixels(render_png("a sun over the ocean", seed=2, width=256, height=256))
    # Mean absolute difference per channel, out of 255: clearly different pictures, not noise.
    assert np.abs(base - other_prompt).mean() > 20
    assert np.abs(base - other_seed).mean() > 5


def test_colour_words_set_the_palette():
    red = pixels(render_png("red crimson fire lava", seed=1, width=256, height=256)).mean(axis=(0, 1))
    blue = pixels(render_png("blue ocean navy ice", seed=1, width=256, height=256)).mean(axis=(0, 1))
    assert red[0] > red[2] and blue[2] > blue[0]


def test_dark_words_darken_the_scene():
    dark = pixels(render_png("moody night storm", seed=4, width=256, height=256)).mean()
    light = pixels(render_png("bright sunny morning", seed=4, width=256, height=256)).mean()
    assert dark < light
