"""Catalog data shaped for people: gallery cards and filters, the model page's parameter and
pricing tables, routing status, and copy-paste API examples. Read-only; views stay thin."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .data.common import CAPABILITIES
from .models import AIModel, Channel, Modality
from .money import format_credits
from .pricing import price_summary, pricing_table, sandbox_factor, sandbox_price, starting_price
from .services import SAMPLE_TEXT, catalog_sample_params

EXAMPLE_PROMPTS = {
    "image": "a lighthouse on a cliff at dusk, golden light",
    "video": "a slow dolly shot of a lighthouse on a cliff at dusk, waves below",
    "music": "warm lo-fi hip hop with soft piano and vinyl crackle",
    "speech": "Welcome to Atelier. Every model, one wallet.",
    "text": "Write a haiku about a lighthouse.",
}


def upstream_adapters() -> set[str]:
    """Adapters that have at least one enabled upstream channel (the sandbox is not one)."""
    return set(Channel.objects.filter(enabled=True).exclude(adapter="sandbox").values_list("adapter", flat=True))


def served_by_sandbox(model: AIModel, live: set[str]) -> bool:
    """True when only the local sandbox engine can serve the model right now."""
    return model.is_local or not ({route.adapter for route in model.routes.all()} & live)


# ---- gallery ----------------------------------------------------------------------------------
@dataclass
class Gallery:
    cards: list
    vendors: list
    capabilities: list  # (value, label) present in the catalog
    modalities: list = field(default_factory=lambda: list(Modality.choices))


def sandbox_price_text() -> str:
    """What a sandbox-served job costs, in words (SANDBOX_PRICE_FACTOR), shown before the click."""
    factor = sandbox_factor()
    if factor == 0:
        return "nothing: the sandbox is free on this server"
    if factor == 1:
        return "the model's full price"
    return f"{(factor * 100).normalize():f}% of the model's price"


def model_starting_price(model: AIModel) -> int:
    """The price of the default request in millicredits, as a quote would hold it (a model only
    the sandbox serves is priced at SANDBOX_PRICE_FACTOR)."""
    price = starting_price(model.effective_pricing, model.schema)
    return sandbox_price(price) if served_by_sandbox(model, upstream_adapters()) else price


def _from_text(model: AIModel, sandbox: bool = False) -> dict:
    summary = price_summary(model.effective_pricing, model.schema)
    scale = sandbox_price if sandbox else (lambda amount: amount)
    if summary["from"] is not None:
        return {"amount": format_credits(scale(summary["from"])), "suffix": "credits"}
    rates = {name: scale(value) for name, value in summary["rates"].items()}
    if "input" in rates:
        return {"amount": f"{format_credits(rates['input'])} / {format_credits(rates['output'])}",
                "suffix": "credits per 1k tokens in / out"}
    return {"amount": format_credits(rates["characters"]), "suffix": "credits per 1k characters"}


def catalog_gallery(*, modality: str = "", vendor: str = "", capability: str = "", query: str = "") -> Gallery:
    """Enabled models matching every given filter; search looks at name, slug, vendor,
    description and aliases. Filtering happens in Python: the catalog is ~100 rows and
    JSON containment lookups differ between SQLite and PostgreSQL."""
    models = list(AIModel.objects.offered().prefetch_related("routes"))
    vendors = sorted({m.vendor for m in models})
    present = {cap for m in models for cap in m.capabilities}
    capabilities = [(value, label) for value, label in CAPABILITIES.items() if value in present]
    words = query.lower().split()
    live = upstream_adapters()
    cards = []
    for model in models:
        if modality and model.modality != modality:
            continue
        if vendor and model.vendor != vendor:
            continue
        if capability and capability not in model.capabilities:
            continue
        haystack = " ".join([model.name, model.slug, model.vendor, model.description, *model.aliases]).lower()
        if any(word not in haystack for word in words):
            continue
        sandbox = served_by_sandbox(model, live)
        cards.append({"model": model, "price": _from_text(model, sandbox), "sandbox": sandbox,
                      "capabilities": [CAPABILITIES.get(c, c) for c in model.capabilities]})
    return Gallery(cards=cards, vendors=vendors, capabilities=capabilities)


# ---- model page -------------------------------------------------------------------------------
def _type_text(spec: dict) -> str:
    return {"text": "string", "string": "string", "integer": "integer", "number": "number", "boolean": "boolean",
            "enum": "enum", "url": "string (URL)", "url_list": "string[] (URL)",
            "messages": "message[]", "json": {"object": "object", "array": "array"}.get(spec.get("json_type"), "JSON")
            }[spec["type"]]


def _allowed_text(spec: dict) -> str:
    kind = spec["type"]
    if kind == "enum":
        return ", ".join(str(c) for c in spec["choices"])
    if kind in {"integer", "number"} and ("min" in spec or "max" in spec):
        return f"{spec.get('min', '…')} – {spec.get('max', '…')}"
    if kind in {"text", "string"}:
        low, high = spec.get("min_length"), spec.get("max_length")
        if low and high:
            return f"{low:,}–{high:,} characters"
        if high:
            return f"up to {high:,} characters"
    if kind == "url":
        return "public http(s) URL or data: URI"
    if kind == "url_list":
        return f"{spec.get('min_items', 0)}–{spec.get('max_items', '…')} public URLs"
    if kind == "boolean":
        return "true, false"
    if kind == "messages":
        parts = "text and image parts" if spec.get("vision") else "text"
        return f"up to {spec.get('max_items', '…')} messages (system, user, assistant; {parts})"
    return ""


def parameter_rows(schema: dict) -> list[dict]:
    rows = []
    for spec in schema.get("fields", []):
        default = spec.get("default")
        rows.append({
            "name": spec["name"],
            "type": _type_text(spec),
            "required": bool(spec.get("required")),
            "default": "" if default is None else json.dumps(default) if not isinstance(default, str) else default,
            "allowed": _allowed_text(spec),
            "description": spec.get("help") or spec.get("label") or "",
        })
    return rows


def _condition(condition: dict) -> str:
    parts = []
    for name, expected in condition.items():
        if expected == "*":
            parts.append(f"{name} is set")
        elif expected is None:
            parts.append(f"{name} is empty")
        elif isinstance(expected, list):
            parts.append(f"{name} is one of {', '.join(str(v) for v in expected)}")
        else:
            parts.append(f"{name} = {json.dumps(expected) if not isinstance(expected, str) else expected}")
    return " and ".join(parts)


def rule_texts(schema: dict) -> list[str]:
    texts = []
    for rule in schema.get("rules", []):
        if rule.get("one_of"):
            texts.append(f"Exactly one of {', '.join(rule['one_of'])}.")
        elif rule.get("require"):
            texts.append(f"{', '.join(rule['require'])} required when {_condition(rule['if'])}.")
        elif rule.get("forbid"):
            texts.append(f"Not allowed: {_condition(rule['if'])}. {rule['message']}")
    return texts


def route_rows(model: AIModel, live: set[str]) -> list[dict]:
    rows = []
    sandbox = served_by_sandbox(model, live)
    for route in sorted(model.routes.all(), key=lambda r: (r.adapter == "sandbox", r.adapter)):
        limits = [f"no {name}" for name in route.unsupported] + [rule["message"] for rule in route.rules]
        # The sandbox route serves only while no real channel is configured (honest routing).
        active = sandbox if route.adapter == "sandbox" else route.adapter in live
        rows.append({"adapter": route.adapter, "upstream_model": route.upstream_model, "active": active,
                     "limits": limits})
    return rows


def example_params(model: AIModel) -> dict:
    params = catalog_sample_params(model.schema)
    example = EXAMPLE_PROMPTS[model.modality]
    for name in ("prompt", "input"):
        if params.get(name) == SAMPLE_TEXT:
            params[name] = example
    if "messages" in params:
        params = {"messages": [{"role": "user", "content": example}]}
    return params


def api_examples(model: AIModel, site_url: str) -> dict:
    base = site_url.rstrip("/")
    body = {"model": model.slug, "params": example_params(model)}
    pretty = json.dumps(body, indent=2, ensure_ascii=False)
    curl = (
        f"curl -X POST {base}/v1/generations \\\n"
        '  -H "Authorization: Bearer $ATELIER_API_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        '  -H "Idempotency-Key: $(uuidgen)" \\\n'
        f"  -d '{pretty.replace(chr(39), chr(39) + chr(92) + chr(39) + chr(39))}'\n\n"
        "# then poll until status is succeeded or failed\n"
        f'curl {base}/v1/generations/$GENERATION_ID -H "Authorization: Bearer $ATELIER_API_KEY"'
    )
    params_py = json.dumps(body["params"], indent=4, ensure_ascii=False)
    params_py = params_py.replace("true", "True").replace("false", "False").replace("null", "None")
    result = "print(job[\"text\"])" if model.modality == "text" else \
        "for output in job[\"outputs\"]:\n    print(output[\"url\"])"
    python = (
        "import os, time, uuid\nimport requests\n\n"
        f'API = "{base}"\n'
        'HEADERS = {"Authorization": f"Bearer {os.environ[\'ATELIER_API_KEY\']}"}\n\n'
        "job = requests.post(\n"
        '    f"{API}/v1/generations",\n'
        '    headers={**HEADERS, "Idempotency-Key": str(uuid.uuid4())},\n'
        f'    json={{"model": "{model.slug}", "params": {params_py.replace(chr(10), chr(10) + "    ")}}},\n'
        ").json()\n"
        'while job.get("status") in ("queued", "running"):\n'
        "    time.sleep(3)\n"
        '    job = requests.get(f"{API}/v1/generations/{job[\'id\']}", headers=HEADERS).json()\n'
        'if job.get("status") != "succeeded":\n'
        '    raise SystemExit(job.get("error"))\n'
        f"{result}\n"
    )
    return {"curl": curl, "python": python, "body": body}


def model_reference(*, model: AIModel, site_url: str) -> dict:
    """Everything the model page shows besides the form."""
    live = upstream_adapters()
    summary = price_summary(model.effective_pricing, model.schema)
    sandbox = served_by_sandbox(model, live)
    return {
        "parameters": parameter_rows(model.schema),
        "conditions": rule_texts(model.schema),
        "pricing_rows": pricing_table(model.effective_pricing),
        "pricing_unit": summary["unit"],
        "price_from": _from_text(model, sandbox),
        "routes": route_rows(model, live),
        "sandbox_only": sandbox,
        "sandbox_price": sandbox_price_text(),
        "checked_at": model.checked_at,
        "checked_note": model.checked_note,
        "retired_at": model.retired_at,
        "capabilities": [CAPABILITIES.get(c, c) for c in model.capabilities],
        "examples": api_examples(model, site_url),
    }
