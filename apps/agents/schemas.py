"""The catalog as JSON Schema, for agents: each model's parameters with their types, ranges,
choices and defaults, and the input media each model takes (for `source_media_urls`).

Generated from the same schema data the validator reads (apps/catalog/schema.py), so a tool's
input schema can never promise a parameter the validator refuses."""
from __future__ import annotations

from dataclasses import dataclass

from apps.catalog.models import AIModel

# The text field a media model's prompt goes into (speech models call it `input`).
PROMPT_FIELDS = ("prompt", "input")


def field_schema(spec: dict, *, describe: bool = True) -> dict:
    """One catalog field as a JSON Schema property (`describe`: with its help text)."""
    kind = spec["type"]
    if kind in {"text", "string"}:
        schema = {"type": "string"}
        if "min_length" in spec:
            schema["minLength"] = spec["min_length"]
        if "max_length" in spec:
            schema["maxLength"] = spec["max_length"]
    elif kind in {"integer", "number"}:
        schema = {"type": kind}
        if "min" in spec:
            schema["minimum"] = spec["min"]
        if "max" in spec:
            schema["maximum"] = spec["max"]
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "enum":
        schema = {"enum": list(spec["choices"])}
    elif kind == "url":
        schema = {"type": "string", "format": "uri"}
    elif kind == "url_list":
        schema = {"type": "array", "items": {"type": "string", "format": "uri"}}
        if "min_items" in spec:
            schema["minItems"] = spec["min_items"]
        if "max_items" in spec:
            schema["maxItems"] = spec["max_items"]
    elif kind == "messages":
        schema = {"type": "array", "items": {"type": "object", "required": ["role", "content"]}}
        if "max_items" in spec:
            schema["maxItems"] = spec["max_items"]
    else:  # json
        schema = {"object": {"type": "object"}, "array": {"type": "array"}}.get(spec.get("json_type"), {})
    description = (spec.get("help") or spec.get("label")) if describe else None
    if description:
        schema["description"] = description
    if spec.get("default") is not None:
        schema["default"] = spec["default"]
    return schema


def parameters_schema(model: AIModel, *, exclude: tuple[str, ...] = (), describe: bool = True) -> dict:
    """The model's parameters as a JSON Schema object (unknown keys refused, as the validator does)."""
    properties, required = {}, []
    for spec in model.schema.get("fields", []):
        if spec["name"] in exclude:
            continue
        properties[spec["name"]] = field_schema(spec, describe=describe)
        if spec.get("required"):
            required.append(spec["name"])
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def prompt_field(model: AIModel) -> str | None:
    names = {spec["name"] for spec in model.schema.get("fields", [])}
    return next((name for name in PROMPT_FIELDS if name in names), None)


# ---- input media ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaInput:
    """A parameter that takes media by URL: which kinds, how many, whether it must be given."""

    name: str
    kinds: tuple[str, ...]  # of "image", "video", "audio"
    many: bool
    max_items: int
    required: bool

    def as_json(self) -> dict:
        return {"param": self.name, "kinds": list(self.kinds), "max": self.max_items, "required": self.required}


def _kinds(name: str) -> tuple[str, ...]:
    if "audio" in name:
        return ("audio",)
    if "video" in name:
        return ("video",)
    if name == "media_urls":  # reference media: pictures or clips
        return ("image", "video")
    return ("image",)


def media_inputs(model: AIModel) -> list[MediaInput]:
    """The model's media parameters in schema order (the order `source_media_urls` fills them)."""
    found = []
    for spec in model.schema.get("fields", []):
        if spec["type"] not in {"url", "url_list"}:
            continue
        many = spec["type"] == "url_list"
        found.append(MediaInput(name=spec["name"], kinds=_kinds(spec["name"]), many=many,
                                max_items=int(spec.get("max_items", 16)) if many else 1,
                                required=bool(spec.get("required"))))
    return found


AUDIO_SUFFIXES = (".mp3", ".wav", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".opus")
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".m4v")


def url_kind(url: str) -> str:
    """image, video or audio, from a data: URI's type or the URL path's extension; image otherwise
    (what most inputs take). Nothing is fetched to find out."""
    lowered = url.strip().lower()
    if lowered.startswith("data:"):
        kind = lowered[5:].split("/", 1)[0]
        return kind if kind in {"image", "video", "audio"} else "image"
    path = lowered.split("?", 1)[0].split("#", 1)[0]
    if path.endswith(AUDIO_SUFFIXES):
        return "audio"
    if path.endswith(VIDEO_SUFFIXES):
        return "video"
    return "image"


class MediaMappingError(ValueError):
    pass


def map_source_media(model: AIModel, urls: list[str], options: dict) -> dict:
    """Put `urls` into the model's media parameters, by kind and in order.

    Each URL goes to the first media parameter (schema order) that takes its kind and has room:
    a single-URL parameter takes one, a list takes up to its maximum. Parameters already set in
    `options` are left as they are. So for a video model with image_url (start frame),
    end_image_url (end frame) and media_urls (references), two pictures become the start and the
    end frame; a sound file goes to audio_url wherever it stands in the list."""
    inputs = [item for item in media_inputs(model) if item.name not in options]
    if urls and not media_inputs(model):
        raise MediaMappingError(f"{model.slug} takes no input media; leave source_media_urls out.")
    filled: dict[str, list[str]] = {}
    for position, url in enumerate(urls, start=1):
        kind = url_kind(url)
        target = next((item for item in inputs if kind in item.kinds
                       and len(filled.get(item.name, [])) < item.max_items), None)
        if target is None:
            takes = ", ".join(f"{item.name} ({'/'.join(item.kinds)}, up to {item.max_items})"
                              for item in media_inputs(model))
            raise MediaMappingError(f"source_media_urls item {position} ({kind}) has no free input on "
                                    f"{model.slug}; it takes: {takes}.")
        filled.setdefault(target.name, []).append(url)
    mapped = dict(options)
    by_name = {item.name: item for item in inputs}
    for name, values in filled.items():
        mapped[name] = values if by_name[name].many else values[0]
    return mapped
