"""Describe a model's parameter schema as form widgets for the templates."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FieldView:
    name: str
    label: str
    widget: str  # textarea | select | number | checkbox | url | text | urls
    value: object
    required: bool
    help: str
    choices: list
    min: object = None
    max: object = None
    step: object = None
    max_length: int | None = None
    advanced: bool = False
    errors: list | None = None


def _widget(spec: dict) -> str:
    kind = spec["type"]
    if spec.get("widget"):
        return spec["widget"]
    return {"enum": "select", "integer": "number", "number": "number", "boolean": "checkbox", "url": "url",
            "url_list": "urls", "text": "textarea"}.get(kind, "text")


def form_fields(schema: dict, values: dict | None = None, errors: dict | None = None) -> list[FieldView]:
    values = values or {}
    errors = errors or {}
    views = []
    for spec in schema.get("fields", []):
        if spec.get("api_only"):  # structured values (tools, response_format) only programs send
            continue
        name = spec["name"]
        value = values.get(name, spec.get("default", ""))
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        views.append(FieldView(
            name=name, label=spec.get("label") or name.replace("_", " ").capitalize(), widget=_widget(spec),
            value="" if value is None else value, required=bool(spec.get("required")), help=spec.get("help", ""),
            choices=[str(c) for c in spec.get("choices", [])], min=spec.get("min"), max=spec.get("max"),
            step=spec.get("step", "any" if spec["type"] == "number" else None), max_length=spec.get("max_length"),
            advanced=bool(spec.get("advanced")), errors=errors.get(name),
        ))
    return views


def params_from_post(schema: dict, post) -> dict:
    """Raw params from a submitted form: only the schema's fields, empty ones left out.

    Checkboxes are sent only when ticked, so a boolean field absent from the POST is False."""
    raw = {}
    for spec in schema.get("fields", []):
        if spec.get("api_only"):
            continue
        name = spec["name"]
        if spec["type"] == "boolean":
            raw[name] = name in post
            continue
        value = post.get(name, "")
        if spec["type"] == "url_list":
            value = [line.strip() for line in value.splitlines() if line.strip()]
        if value not in ("", []):
            raw[name] = value
    return raw
