"""OpenAI-style media parameters -> a catalog model's own parameters.

OpenAI (and references 000 and 004) speak one vocabulary for every model: `size` as "WxH" or
an aspect ratio, `resolution` 1K/2K/4K, `n`, `seconds`, `voice`... Catalog models each name
their parameters as their upstream does (aspect_ratio, image_size, num_images...). This module
maps one onto the other; what cannot be mapped is a 400 naming the parameter, except the hints
of reference 000 ("optional size, steps and seed"), which a model without them ignores: they
are listed in the answer's `ignored_params` instead."""
from __future__ import annotations

import math
import re

from apps.catalog.models import AIModel

from .errors import invalid

RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
PIXELS = re.compile(r"^\s*(\d{2,5})\s*[xX*]\s*(\d{2,5})\s*$")
TIER = re.compile(r"^\s*([1-8])\s*[kK]\s*$")
RATIO_TOLERANCE = 0.08  # 1792x1024 (1.75) is 16:9 (1.78); 4:3 (1.33) is not 3:2 (1.5)
# Values a model without the parameter can take: they ask for its default behaviour anyway.
NEUTRAL = {"quality": {"auto", "standard"}, "background": {"auto"}, "moderation": {"auto"}, "style": {"auto"},
           "size": {"auto"}}


class ParamMapper:
    """Builds one model's params from surface values; remembers which hints it had to ignore."""

    def __init__(self, model: AIModel):
        self.model = model
        self.fields = {spec["name"]: spec for spec in model.schema.get("fields", [])}
        self.params: dict = {}
        self.ignored: list[str] = []

    def has(self, name: str) -> bool:
        return name in self.fields

    def choices(self, name: str) -> list:
        return list(self.fields.get(name, {}).get("choices", []))

    def put(self, name: str, value, *, param: str | None = None, hint: bool = False, target: str | None = None):
        """Set `target` (default `name`) if the model has it; otherwise ignore a hint or a neutral
        value, or refuse the parameter."""
        if value is None or value == "":
            return
        target = target or name
        if self.has(target):
            self.params[target] = value
        elif hint or str(value) in NEUTRAL.get(name, ()):
            self.ignored.append(param or name)
        else:
            raise invalid(f"The model {self.model.slug} does not take {param or name}.", param=param or name)

    def first(self, names: tuple[str, ...]) -> str | None:
        return next((name for name in names if self.has(name)), None)

    # ---- shapes ---------------------------------------------------------------------------------
    def ratio_choice(self, name: str, width: float, height: float) -> str | None:
        """The `a:b` choice of field `name` closest to width:height, within the tolerance."""
        wanted = math.log(width / height)
        best, distance = None, RATIO_TOLERANCE
        for choice in self.choices(name):
            match = RATIO.match(str(choice))
            if match:
                gap = abs(math.log(float(match[1]) / float(match[2])) - wanted)
                if gap <= distance:
                    best, distance = choice, gap
        return best

    def tier_choice(self, name: str, tier: str) -> str | None:
        return next((c for c in self.choices(name) if str(c).upper() == tier.upper()), None)

    def ratio_field(self) -> str | None:
        """The field that takes an aspect ratio (reference 003's Nano Banana calls it image_size)."""
        for name in ("aspect_ratio", "image_size", "size"):
            if any(RATIO.match(str(c)) for c in self.choices(name)):
                return name
        return None

    def set_size(self, size: str | None, *, param: str = "size"):
        """`size` as OpenAI's "WxH", an aspect ratio ("16:9", reference 004) or "auto"."""
        if not size:
            return
        size = str(size).strip()
        if size == "auto":
            self.put("size", "auto", param=param) if "auto" in map(str, self.choices("size")) else \
                self.ignored.append(param)
            return
        pixels, ratio = PIXELS.match(size), RATIO.match(size)
        if pixels and str(size) in map(str, self.choices("size")):
            self.params["size"] = size
            return
        if pixels and self.has("width") and self.has("height"):
            self.params["width"], self.params["height"] = int(pixels[1]), int(pixels[2])
            return
        if not pixels and not ratio:
            raise invalid("size must be WIDTHxHEIGHT (1024x1024) or an aspect ratio (16:9).", param=param)
        width, height = (float(pixels[1]), float(pixels[2])) if pixels else (float(ratio[1]), float(ratio[2]))
        if width <= 0 or height <= 0:
            raise invalid("size must be positive.", param=param)
        field = self.ratio_field()
        choice = self.ratio_choice(field, width, height) if field else None
        if choice is None and not pixels:
            choice, field = self.pixel_choice(width, height), "size"
        if choice is None:
            allowed = ", ".join(map(str, self.choices(field or "size"))) or "none"
            raise invalid(f"The model {self.model.slug} cannot make {size}; it takes: {allowed}.", param=param)
        self.params[field] = choice
        if pixels:
            self.set_pixel_tier(max(width, height))

    def pixel_choice(self, width: float, height: float, longest: float = 1024) -> str | None:
        """For an aspect ratio on a model that only lists pixel sizes: the size of that shape whose
        long side is nearest `longest` (1K unless a resolution says otherwise)."""
        wanted, found = math.log(width / height), []
        for choice in self.choices("size"):
            match = PIXELS.match(str(choice))
            if match and abs(math.log(int(match[1]) / int(match[2])) - wanted) <= RATIO_TOLERANCE:
                found.append((abs(max(int(match[1]), int(match[2])) - longest), choice))
        return min(found)[1] if found else None

    def set_pixel_tier(self, longest: float):
        """A resolution tier that holds the requested pixels, when the model has tiers (1K/2K/4K)."""
        for name in ("resolution", "image_size"):
            tiers = sorted((int(TIER.match(str(c))[1]), c) for c in self.choices(name) if TIER.match(str(c)))
            if tiers and name not in self.params:
                fitting = [c for k, c in tiers if k * 1024 >= longest] or [tiers[-1][1]]
                self.params[name] = fitting[0]
                return

    def set_resolution(self, resolution: str | None, *, param: str = "resolution"):
        """1K/2K/4K (images) or 480p/720p/1080p (video), on whichever field the model names it."""
        if not resolution:
            return
        for name in ("resolution", "image_size", "size"):
            choice = self.tier_choice(name, str(resolution))
            if choice is not None:
                self.params[name] = choice
                return
        tier = TIER.match(str(resolution))
        size = PIXELS.match(str(self.params.get("size", "")))
        if tier and size:  # a pixel size was picked from an aspect ratio: pick it at this tier instead
            better = self.pixel_choice(int(size[1]), int(size[2]), longest=int(tier[1]) * 1024)
            if better is not None:
                self.params["size"] = better
                return
        allowed = ", ".join(map(str, self.choices("resolution") or self.choices("image_size"))) or "none"
        raise invalid(f"The model {self.model.slug} does not offer resolution {resolution}; it takes: {allowed}.",
                      param=param, code="unsupported_resolution")

    def set_video_size(self, size: str | None, *, param: str = "size"):
        """OpenAI video `size` ("1280x720"): the model's size, or its aspect ratio and resolution."""
        if not size:
            return
        pixels = PIXELS.match(str(size))
        if pixels is None:
            return self.set_size(size, param=param)
        if str(size) in map(str, self.choices("size")):
            self.params["size"] = str(size)
            return
        width, height = int(pixels[1]), int(pixels[2])
        field = self.ratio_field()
        choice = self.ratio_choice(field, width, height) if field else None
        if choice is None:
            raise invalid(f"The model {self.model.slug} cannot make {size}.", param=param)
        self.params[field] = choice
        if self.has("resolution"):
            short = min(width, height)
            numbered = [(int(re.sub(r"\D", "", str(c)) or 0), c) for c in self.choices("resolution")]
            if numbered:
                self.params["resolution"] = min(numbered, key=lambda item: abs(item[0] - short))[1]

    def set_images(self, urls: list[str], *, param: str = "image"):
        """Input images onto the model's image field(s): a list field, or one URL."""
        if not urls:
            return
        name = self.first(("image_urls", "image_url", "input_image", "image_prompt"))
        if name is None:
            raise invalid(f"The model {self.model.slug} does not take input images.", param=param)
        if self.fields[name]["type"] == "url_list":
            self.params[name] = list(urls)
        elif len(urls) > 1:
            raise invalid(f"The model {self.model.slug} takes one input image.", param=param)
        else:
            self.params[name] = urls[0]


def image_count_field(mapper: ParamMapper) -> str | None:
    return mapper.first(("n", "num_images", "num_outputs", "batch_count", "max_images"))


def image_params(model: AIModel, values: dict, images: list[str] | None = None) -> tuple[dict, list[str]]:
    """OpenAI images request values (plus 000's steps/seed, 004's resolution) -> model params."""
    mapper = ParamMapper(model)
    mapper.put("prompt", values.get("prompt"))
    count = values.get("n")
    if count not in (None, 1):
        name = image_count_field(mapper)
        if name is None:
            raise invalid(f"The model {model.slug} makes one image per request.", param="n")
        mapper.params[name] = count
    mapper.set_size(values.get("size"))
    mapper.set_resolution(values.get("resolution"))
    for name in ("quality", "background", "output_format", "output_compression", "moderation", "style",
                 "negative_prompt", "input_fidelity"):
        mapper.put(name, values.get(name))
    steps = mapper.first(("num_inference_steps", "steps"))
    mapper.put("steps", values.get("steps"), hint=True, target=steps or "steps")
    mapper.put("seed", values.get("seed"), hint=True)
    mapper.set_images(images or [])
    if values.get("mask"):
        mapper.put("mask_url", values["mask"], param="mask")
    return mapper.params, mapper.ignored


def video_params(model: AIModel, values: dict) -> tuple[dict, list[str]]:
    """OpenAI /videos (seconds, size, input_reference) and reference 004's /videos/generations
    (duration, aspect_ratio, resolution, image_url, and any of the model's own parameters)."""
    mapper = ParamMapper(model)
    rest = dict(values)
    mapper.put("prompt", rest.pop("prompt", None))
    seconds = rest.pop("seconds", None)
    duration = rest.pop("duration", None)
    length = duration if duration not in (None, "") else seconds
    if length not in (None, ""):
        mapper.put("duration", length, param="seconds" if duration in (None, "") else "duration")
    mapper.set_video_size(rest.pop("size", None))
    if rest.get("aspect_ratio"):
        mapper.put("aspect_ratio", rest.pop("aspect_ratio"))
    mapper.set_resolution(rest.pop("resolution", None))
    reference = rest.pop("input_reference", None) or rest.pop("image_url", None)
    if reference:
        mapper.set_images([reference], param="input_reference" if "input_reference" in values else "image_url")
    mapper.put("seed", rest.pop("seed", None), hint=True)
    for name, value in rest.items():  # the model's own parameters, by their catalog names
        mapper.put(name, value)
    return mapper.params, mapper.ignored


SPEECH_FORMAT_PREFIX = {"mp3": "mp3_", "pcm": "pcm_", "opus": "opus_", "wav": "wav_"}


def speech_params(model: AIModel, values: dict) -> tuple[dict, list[str]]:
    mapper = ParamMapper(model)
    mapper.put("input", values.get("input"))
    mapper.put("voice", values.get("voice"))
    fmt = values.get("response_format")
    if fmt and not mapper.has("response_format"):
        mapper.ignored.append("response_format")  # the model has one format; the answer's type names it
    elif fmt:
        choices = [str(c) for c in mapper.choices("response_format")]
        if fmt not in choices:  # ElevenLabs names formats with their rate: mp3 -> mp3_44100_128
            fmt = next((c for c in choices if c.startswith(SPEECH_FORMAT_PREFIX.get(fmt, f"{fmt}_"))), fmt)
        mapper.params["response_format"] = fmt
    speed = values.get("speed")
    if speed is not None and float(speed) != 1.0:
        mapper.put("speed", speed)
    elif speed is not None and mapper.has("speed"):
        mapper.params["speed"] = speed
    mapper.put("instructions", values.get("instructions"))
    return mapper.params, mapper.ignored
