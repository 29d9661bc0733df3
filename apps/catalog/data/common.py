"""Schema fragments shared by catalog entries."""


def prompt(max_length: int = 4000, required: bool = True, label: str = "Prompt") -> dict:
    return {
        "name": "prompt",
        "type": "text",
        "label": label,
        "required": required,
        "min_length": 1 if required else 0,
        "max_length": max_length,
        "widget": "textarea",
    }


def seed(maximum: int = 2_147_483_647) -> dict:
    return {"name": "seed", "type": "integer", "min": 0, "max": maximum, "advanced": True,
            "help": "Same seed and prompt give the same result."}


def enum(name: str, choices: list, default=None, label: str | None = None, **extra) -> dict:
    spec = {"name": name, "type": "enum", "choices": choices, "default": default if default is not None else choices[0]}
    if label:
        spec["label"] = label
    spec.update(extra)
    return spec


def integer(name: str, minimum: int, maximum: int, default: int | None = None, **extra) -> dict:
    spec = {"name": name, "type": "integer", "min": minimum, "max": maximum}
    if default is not None:
        spec["default"] = default
    spec.update(extra)
    return spec


# ---- more fragments (catalog modules for real models) ---------------------------------------
# Prices: 1 credit is meant as roughly one US cent at the upstreams' list prices, so a figure
# read off a provider's pricing page converts by moving the decimal point.

CAPABILITIES = {
    "text-to-image": "Text to image",
    "image-to-image": "Image to image (edit or reference)",
    "text-to-video": "Text to video",
    "image-to-video": "Image to video (start frame)",
    "end-frame": "End frame (start and end frames)",
    "media-to-video": "Media to video (reference images, clips, audio)",
    "video-audio": "Video with generated audio",
    "text-to-speech": "Text to speech",
    "music": "Music",
    "lyrics": "Songs with lyrics",
    "chat": "Chat",
    "vision": "Vision input",
    "streaming": "Streaming",
    "tools": "Tool calling",
    "reasoning": "Reasoning",
}

EXAMPLE_IMAGE = "https://example.com/input.png"
EXAMPLE_END_IMAGE = "https://example.com/last-frame.png"

DEADLINES = {"image": 300, "video": 1800, "music": 900, "speech": 180, "text": 600}


def number(name: str, minimum, maximum, default=None, **extra) -> dict:
    spec = {"name": name, "type": "number", "min": minimum, "max": maximum}
    if default is not None:
        spec["default"] = default
    spec.update(extra)
    return spec


def boolean(name: str, default: bool = False, **extra) -> dict:
    spec = {"name": name, "type": "boolean", "default": default}
    spec.update(extra)
    return spec


def text(name: str, max_length: int, label: str | None = None, required: bool = False, **extra) -> dict:
    spec = {"name": name, "type": "text", "max_length": max_length, "required": required, "widget": "textarea"}
    if label:
        spec["label"] = label
    spec.update(extra)
    return spec


def negative_prompt(max_length: int = 2000, **extra) -> dict:
    spec = {"name": "negative_prompt", "type": "text", "max_length": max_length, "advanced": True,
            "help": "What the result should not contain."}
    spec.update(extra)
    return spec


def url(name: str, label: str, help: str = "", required: bool = False, example: str = EXAMPLE_IMAGE) -> dict:
    spec = {"name": name, "type": "url", "label": label, "required": required, "example": example}
    if help:
        spec["help"] = help
    return spec


def url_list(name: str, label: str, max_items: int, help: str = "", min_items: int = 1) -> dict:
    spec = {"name": name, "type": "url_list", "label": label, "min_items": min_items, "max_items": max_items,
            "example": [EXAMPLE_IMAGE]}
    if help:
        spec["help"] = help
    return spec


def route(adapter: str, model: str, unsupported: list | None = None, rules: list | None = None) -> dict:
    entry = {"adapter": adapter, "model": model}
    if unsupported:
        entry["unsupported"] = unsupported
    if rules:
        entry["rules"] = rules
    return entry


def sandbox_route(modality: str) -> dict:
    """Every real model can also run on the local sandbox engine (channel priority -100), so a
    fresh install without upstream keys still produces a file; real channels win when configured."""
    return {"adapter": "sandbox", "model": modality}


# When the catalog was last compared with the providers' model lists, docs and prices.
CHECKED = "2026-12-01"


def entry(*, slug, name, vendor, modality, description, capabilities, fields, pricing, routes, rules=None,
          aliases=None, limits=None, sort_order=100, checked=CHECKED, note="", retired=None) -> dict:
    """One catalog entry with the shared defaults (deadline per modality, sandbox route last).

    checked: the date the entry was compared with its provider; note: what that check could not
    confirm (shown on the model page); retired: the provider's shutdown date (kept for history,
    neither offered nor routed)."""
    merged_limits = {"deadline_seconds": DEADLINES[modality]}
    merged_limits.update(limits or {})
    schema = {"fields": fields}
    if rules:
        schema["rules"] = rules
    return {
        "slug": slug, "name": name, "vendor": vendor, "modality": modality, "description": description,
        "capabilities": capabilities, "schema": schema, "pricing": pricing, "limits": merged_limits,
        "aliases": aliases or [], "is_local": False, "sort_order": sort_order,
        "checked_at": checked, "checked_note": note, "retired_at": retired,
        "routes": [*routes, sandbox_route(modality)],
    }


def chat_api_fields(*, tools: bool = True, seed_field: bool = True) -> list:
    """Chat parameters that programs send (OpenAI's names) and the studio form does not show."""
    fields = [
        {"name": "response_format", "type": "json", "json_type": "object", "max_length": 100_000, "api_only": True,
         "label": "Response format", "help": 'OpenAI\'s {"type": "json_object"} or {"type": "json_schema", ...}.'},
        {"name": "user", "type": "string", "max_length": 256, "api_only": True, "label": "End-user id"},
    ]
    if seed_field:
        fields.append({"name": "seed", "type": "integer", "min": -(2 ** 63), "max": 2 ** 63 - 1, "api_only": True,
                       "label": "Seed", "help": "Best-effort determinism where the upstream supports it."})
    if tools:
        fields += [
            {"name": "tools", "type": "json", "json_type": "array", "max_items": 128, "max_length": 200_000,
             "api_only": True, "label": "Tools", "help": "OpenAI function tools the model may call."},
            {"name": "tool_choice", "type": "json", "json_type": "any", "max_length": 10_000, "api_only": True,
             "label": "Tool choice", "help": '"auto", "none", "required" or {"type": "function", "function": ...}.'},
            {"name": "parallel_tool_calls", "type": "boolean", "api_only": True, "label": "Parallel tool calls"},
        ]
    return fields
