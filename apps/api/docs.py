"""The API's reference for people and for agents, generated from the OpenAPI document:

- `/v1/openapi.json`, `/api/v1/openapi.json`: the document itself (apps/api/openapi.py);
- `/docs/`: a page in the site's own look, no script and no CDN;
- `/llms.txt`: the same reference as one Markdown file (for "paste the API into your agent").

One structure (`api_reference`) feeds both renderings, so they cannot disagree; per-model
request examples come from the catalog."""
from __future__ import annotations

import json
from collections import OrderedDict

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from apps.catalog.presentation import example_params

from .catalog import enabled_models
from .openapi import openapi_document

MOUNTS = ("/api/v1/", "/v1/")
TAG_ORDER = ("Atelier", "OpenAI", "Reference 003", "pollinations")


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def type_text(schema: dict, components: dict) -> str:
    """A short type for a table cell: string, integer (1-4), one of a | b, array of X, Name."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [type_text(part, components) for part in schema[key]]
            return " or ".join(part for part in parts if part != "null") + (" (nullable)" if "null" in parts else "")
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_text(schema.get('items', {}), components)}"
    bounds = [f"{word} {schema[key]}" for key, word in (("minimum", "min"), ("maximum", "max"),
                                                         ("minLength", "min length"), ("maxLength", "max length"))
              if key in schema]
    return f"{kind} ({', '.join(bounds)})" if bounds else str(kind)


def _fields(schema: dict, components: dict) -> list[dict]:
    schema = _resolve(schema, components)
    required = set(schema.get("required", []))
    return [{"name": name, "type": type_text(prop, components), "required": name in required,
             "description": _resolve(prop, components).get("description", prop.get("description", ""))}
            for name, prop in schema.get("properties", {}).items()]


def _operation(path: str, method: str, details: dict, components: dict, also: list[str]) -> dict:
    body = details.get("requestBody", {}).get("content", {})
    media, content = next(iter(body.items()), (None, {}))
    responses = []
    for status, response in details.get("responses", {}).items():
        schema = next(iter(response.get("content", {}).values()), {}).get("schema")
        responses.append({"status": status, "description": response.get("description", ""),
                          "schema": type_text(schema, components) if schema else ""})
    return {
        "method": method.upper(), "path": path, "also": also, "id": details["operationId"],
        "summary": details.get("summary") or "", "description": (details.get("description") or "").strip(),
        "public": {} in details.get("security", []),
        "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                        "type": type_text(p.get("schema", {}), components), "description": p.get("description", "")}
                       for p in details.get("parameters", [])],
        "body_type": media, "body": _fields(content.get("schema", {}), components) if content else [],
        "responses": responses,
    }


def api_reference() -> dict:
    """The document grouped for reading: each operation once, with the other mounts it is under."""
    document = openapi_document()
    components = document.get("components", {}).get("schemas", {})
    seen: dict[tuple, dict] = OrderedDict()
    for path, methods in document["paths"].items():
        for method, details in methods.items():
            base = next((path[len(mount) - 1:] for mount in MOUNTS if path.startswith(mount)), path)
            mount = next((mount.rstrip("/") for mount in MOUNTS if path.startswith(mount)), "")
            key = (base, method, details.get("summary"))
            if key in seen:
                seen[key]["also"].append(path)
                continue
            seen[key] = _operation(path, method, details, components, [])
            seen[key]["tag"] = (details.get("tags") or ["Other"])[0]
            seen[key]["mount"] = mount
    tags: dict[str, list] = OrderedDict()
    for operation in sorted(seen.values(), key=lambda op: (not op["path"].startswith("/v1/"), op["path"])):
        tags.setdefault(operation["tag"], []).append(operation)
    ordered = sorted(tags.items(), key=lambda item: TAG_ORDER.index(item[0]) if item[0] in TAG_ORDER else 99)
    site = settings.SITE_URL.rstrip("/")
    return {
        "site": site, "title": document["info"]["title"], "version": document["info"]["version"],
        "groups": [{"tag": tag, "operations": operations} for tag, operations in ordered],
        "examples": model_examples(),
        "webhooks": [{"event": name, "summary": hook["post"]["summary"]} for name, hook in
                     document.get("webhooks", {}).items()],
        "error_fields": _fields({"$ref": "#/components/schemas/ErrorObject"}, components),
        "generation_fields": _fields({"$ref": "#/components/schemas/GenerationOut"}, components),
    }


def model_examples() -> list[dict]:
    return [{"slug": model.slug, "name": model.name, "modality": model.modality,
             "body": json.dumps({"model": model.slug, "params": example_params(model)}, ensure_ascii=False)}
            for model in enabled_models() if model.retired_at is None]


# ---- views ------------------------------------------------------------------------------------
def openapi_json(request):
    response = JsonResponse(openapi_document(), json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # a public document: tools in browsers may read it
    return response


def docs_page(request):
    return render(request, "api/docs.html", {"ref": api_reference()})


def llms_txt(request):
    text = render_to_string("api/llms.txt", {"ref": api_reference()})
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")
