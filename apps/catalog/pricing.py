"""Deterministic quotes in millicredits from (pricing rule, clean params).

A rule is data (credit amounts are decimal strings):
    {"unit": "image",  "credits": "4", "count": "n", "multipliers": {"quality": {"high": "4"}}}
    {"unit": "second", "credits": "0.5", "duration": "duration",
     "multipliers": {"resolution": {"1080p": "2"}}, "addons": {"generate_audio": {"true": "0.25"}}}
    {"unit": "song",   "credits": "10"}
    {"unit": "1k_chars", "credits": "0.3", "text": "input"}
    {"unit": "1k_tokens", "input": "0.002", "output": "0.008", "max_output": "max_tokens", "default_max_output": 1024,
     "image_tokens": 1000}   (input tokens counted for each image part of a vision request)
    {"unit": "request", "credits": "1"}
The quote is rounded up to a whole millicredit, so what is shown is exactly what is held."""
from __future__ import annotations

import json
import math
from decimal import Decimal

MILLI = Decimal(1000)
IMAGE_TOKENS = 1100  # a high-detail image tile set, rounded up: the hold stays an upper bound


def _ceil_milli(credits: Decimal) -> int:
    return int(math.ceil(credits * MILLI))


def _multiplier(rule: dict, params: dict) -> Decimal:
    factor = Decimal(1)
    for name, table in rule.get("multipliers", {}).items():
        key = params.get(name)
        key = str(key).lower() if isinstance(key, bool) else str(key)
        factor *= Decimal(str(table.get(key, "1")))
    return factor


def _addons(rule: dict, params: dict) -> Decimal:
    extra = Decimal(0)
    for name, table in rule.get("addons", {}).items():
        key = params.get(name)
        key = str(key).lower() if isinstance(key, bool) else str(key)
        extra += Decimal(str(table.get(key, "0")))
    return extra


def estimate_tokens(text: str) -> int:
    # English runs ~4 characters per token; dividing by 3 keeps the hold an upper bound.
    return max(1, math.ceil(len(text) / 3))


def quote(rule: dict, params: dict) -> int:
    """The price in millicredits; for text it is the maximum the request can cost."""
    unit = rule["unit"]
    if unit == "image":
        count = int(params.get(rule.get("count", "n"), 1) or 1)
        return _ceil_milli(Decimal(rule["credits"]) * _multiplier(rule, params) * count)
    if unit == "second":
        seconds = Decimal(str(params.get(rule.get("duration", "duration"), rule.get("default_duration", 5))))
        per_second = Decimal(rule["credits"]) * _multiplier(rule, params) + _addons(rule, params)
        return _ceil_milli(per_second * seconds)
    if unit in {"song", "request"}:
        return _ceil_milli((Decimal(rule["credits"]) * _multiplier(rule, params)) + _addons(rule, params))
    if unit == "1k_chars":
        text = params.get(rule.get("text", "input")) or ""
        return _ceil_milli(Decimal(rule["credits"]) * _multiplier(rule, params) * Decimal(len(text)) / 1000)
    if unit == "1k_tokens":
        text, images = _prompt_parts(params)
        prompt_tokens = estimate_tokens(text) + images * int(rule.get("image_tokens", IMAGE_TOKENS))
        max_output = int(params.get(rule.get("max_output", "max_tokens")) or rule.get("default_max_output", 1024))
        return token_cost(rule, prompt_tokens, max_output)
    raise ValueError(f"Unknown pricing unit {unit!r}")


def token_cost(rule: dict, input_tokens: int, output_tokens: int) -> int:
    cost = Decimal(rule["input"]) * input_tokens / 1000 + Decimal(rule["output"]) * output_tokens / 1000
    return max(1, _ceil_milli(cost))


def prompt_text(params: dict) -> str:
    """A chat request's text (prompt, system and message text parts), as the estimate counts it."""
    return _prompt_parts(params)[0]


def _prompt_parts(params: dict) -> tuple[str, int]:
    """The request's text (for the token estimate) and how many images it carries."""
    texts, images = [], 0
    if isinstance(params.get("messages"), list):
        for message in params["messages"]:
            if not isinstance(message, dict):
                continue
            content = message.get("content", "")
            if isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and part.get("type") == "image_url":
                        images += 1
                    elif isinstance(part, dict):
                        texts.append(str(part.get("text", "")))
            elif content:
                texts.append(str(content))
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict) and isinstance(call.get("function"), dict):
                    texts.append(str(call["function"].get("name", "")) + str(call["function"].get("arguments", "")))
    for name in ("system", "prompt"):
        if params.get(name):
            texts.append(str(params[name]))
    if params.get("tools"):  # tool definitions are part of the prompt the upstream bills
        texts.append(json.dumps(params["tools"], separators=(",", ":")))
    # Each message costs a few tokens of framing; counting one separator character each is not
    # enough, so the estimate adds 4 tokens' worth (12 characters) per message.
    framing = " " * (12 * len(texts))
    return " ".join(texts) + framing, images


def starting_price(rule: dict, schema: dict) -> int:
    """'From N credits': the quote with every field at its default (prompt empty)."""
    defaults = {spec["name"]: spec.get("default") for spec in schema.get("fields", []) if spec.get("default") is not None}
    return quote(rule, defaults)


UNIT_WORDS = {"image": "per image", "second": "per second", "song": "per song", "request": "per request",
              "1k_chars": "per 1,000 characters"}


def price_summary(rule: dict, schema: dict) -> dict:
    """What a gallery card and the API listing say about the price.

    {"from": millicredits of the default request (None for text and speech, which depend on
    the input), "unit": words, "rates": {name: millicredits}} - rates are per unit: per image,
    second, song, 1,000 characters, or 1,000 input/output tokens."""
    unit = rule["unit"]
    if unit == "1k_tokens":
        return {"from": None, "unit": "per 1,000 tokens",
                "rates": {"input": _ceil_milli(Decimal(rule["input"])), "output": _ceil_milli(Decimal(rule["output"]))}}
    if unit == "1k_chars":
        return {"from": None, "unit": UNIT_WORDS[unit], "rates": {"characters": _ceil_milli(Decimal(rule["credits"]))}}
    return {"from": starting_price(rule, schema), "unit": UNIT_WORDS[unit],
            "rates": {unit: _ceil_milli(Decimal(rule["credits"]))}}


def pricing_table(rule: dict) -> list[tuple[str, str]]:
    """The pricing rule as rows a person reads: (what, credits or factor)."""
    unit = rule["unit"]
    if unit == "1k_tokens":
        return [("Input, per 1,000 tokens", rule["input"]), ("Output, per 1,000 tokens", rule["output"]),
                ("Hold", f"prompt estimate + {rule.get('max_output', 'max_tokens')} at the output price; "
                         "the actual usage is charged")]
    rows = [(f"Base, {UNIT_WORDS[unit]}", rule["credits"])]
    if unit == "image":
        rows.append(("Count", f"x {rule.get('count', 'n')}"))
    for name, table in rule.get("multipliers", {}).items():
        for value, factor in table.items():
            rows.append((f"{name} = {value}", f"x {factor}"))
    for name, table in rule.get("addons", {}).items():
        for value, extra in table.items():
            rows.append((f"{name} = {value}", f"+ {extra} {UNIT_WORDS[unit]}"))
    if unit == "second":
        rows.append(("Length", f"x {rule.get('duration', 'duration')} (seconds)"))
    return rows


# ---- the sandbox's price ----------------------------------------------------------------------
def sandbox_factor() -> Decimal:
    """SANDBOX_PRICE_FACTOR: what a job the local sandbox serves costs, as a share of the model's
    price (1 = the model's price, so a demo shows real prices; 0 = free)."""
    from django.conf import settings

    return Decimal(str(getattr(settings, "SANDBOX_PRICE_FACTOR", 1)))


def sandbox_price(amount: int) -> int:
    """The charge for a sandbox-served job whose real price is `amount` millicredits."""
    return int(math.ceil(Decimal(amount) * sandbox_factor()))


def sandbox_hold(amount: int) -> int:
    """The hold for such a job: the scaled price, at least the 1 millicredit a hold must be."""
    return max(1, sandbox_price(amount))
