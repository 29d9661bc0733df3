"""One validator for every entry point (web form, API, agent tools).

A model's schema is data:
    {"fields": [{"name": "prompt", "type": "text", "required": true, "max_length": 4000}, ...],
     "rules":  [{"if": {"field": value}, "require": ["image_url"]},
                {"if": {"resolution": "4k", "aspect_ratio": "1:1"}, "forbid": true, "message": "..."}]}

Field types: text, string, integer, number, boolean, enum, url, url_list, messages, json.
Field keys: name, type, label, help, required, default, choices, min, max, min_length,
max_length, min_items, max_items, step, widget, advanced, example (a valid sample value
used by catalog checks and API examples), vision (messages: image parts allowed), tools
(messages: tool calls and tool results allowed), json_type (json: "object", "array" or
"any"), api_only (not shown in the studio form: a value only programs send).
Rule kinds: {"if": {...}, "require": [...]} (conditional requirement),
{"if": {...}, "forbid": true, "message": ...} (a refused combination),
{"one_of": ["prompt", "messages"]} (exactly one of these must be given).
A "messages" value is an OpenAI-style chat: [{"role": "system"|"user"|"assistant",
"content": "text" or [{"type": "text", "text": ...}, {"type": "image_url", "image_url": {"url": ...}}]}];
"developer" is OpenAI's newer name for "system". With `tools`, assistant messages may carry
`tool_calls` (content may then be empty) and "tool" messages answer one by `tool_call_id`.
`validate_params` returns clean params (defaults applied, types coerced) or raises
ValidationFailed with per-field messages that users read as they are."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

FIELD_TYPES = {"text", "string", "integer", "number", "boolean", "enum", "url", "url_list", "messages", "json"}
MESSAGE_ROLES = ("system", "developer", "user", "assistant")
TOOL_ROLES = (*MESSAGE_ROLES, "tool")
JSON_TYPES = {"object": dict, "array": list}
MAX_JSON_DEPTH = 32


@dataclass
class ValidationFailed(Exception):
    errors: dict[str, list[str]] = field(default_factory=dict)
    code: str = "invalid_request"

    def add(self, name: str, message: str):
        self.errors.setdefault(name, []).append(message)

    def __str__(self):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())


def _label(spec: dict) -> str:
    return spec.get("label") or spec["name"].replace("_", " ").capitalize()


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


def _coerce(spec: dict, value):
    """Return the typed value or raise ValueError with the message the user sees."""
    kind = spec["type"]
    label = _label(spec)
    if kind in {"text", "string"}:
        if not isinstance(value, str):
            raise ValueError(f"{label} must be text.")
        value = value.strip()
        if "min_length" in spec and len(value) < spec["min_length"]:
            raise ValueError(f"{label} must be at least {spec['min_length']} characters.")
        if "max_length" in spec and len(value) > spec["max_length"]:
            raise ValueError(f"{label} must be at most {spec['max_length']} characters (got {len(value)}).")
        return value
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError(f"{label} must be a whole number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{label} must be a whole number.") from None
        if number != number.to_integral_value():
            raise ValueError(f"{label} must be a whole number.")
        return _check_range(spec, int(number))
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(f"{label} must be a number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{label} must be a number.") from None
        if not number.is_finite():
            raise ValueError(f"{label} must be a number.")
        number = _check_range(spec, number)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "on", "yes"}:
            return True
        if text in {"false", "0", "off", "no", ""}:
            return False
        raise ValueError(f"{label} must be true or false.")
    if kind == "enum":
        choices = spec["choices"]
        for choice in choices:
            if value == choice or str(value) == str(choice):
                return choice
        shown = ", ".join(str(c) for c in choices)
        raise ValueError(f"{label} must be one of: {shown} (got {value!r}).")
    if kind == "url":
        return _check_url(label, value)
    if kind == "url_list":
        if isinstance(value, str):
            value = [line for line in value.split() if line]
        if not isinstance(value, list):
            raise ValueError(f"{label} must be a list of URLs.")
        _check_items(spec, value)
        return [_check_url(label, item) for item in value]
    if kind == "messages":
        return _check_messages(spec, value)
    if kind == "json":
        return _check_json(spec, value)
    raise ValueError(f"{label} has an unknown type {kind!r}.")


def _check_items(spec: dict, items: list):
    label = _label(spec)
    if "min_items" in spec and len(items) < spec["min_items"]:
        raise ValueError(f"{label} needs at least {spec['min_items']} items (got {len(items)}).")
    if "max_items" in spec and len(items) > spec["max_items"]:
        raise ValueError(f"{label} accepts at most {spec['max_items']} items (got {len(items)}).")


def _check_messages(spec: dict, value) -> list:
    """A chat as a list of {role, content}; content is text or OpenAI content parts."""
    label = _label(spec)
    if isinstance(value, str):
        # The web form and simple clients may send the chat as a JSON string.
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"{label} must be a list of {{role, content}} objects (invalid JSON).") from None
    if not isinstance(value, list) or not value:
        raise ValueError(f"{label} must be a non-empty list of {{role, content}} objects.")
    _check_items(spec, value)
    clean, total = [], 0
    for number, message in enumerate(value, start=1):
        where = f"{label} item {number}"
        if not isinstance(message, dict):
            raise ValueError(f"{where} must be an object with role and content.")
        tools = bool(spec.get("tools"))
        allowed_keys = {"role", "content", "name"} | ({"tool_calls", "tool_call_id"} if tools else set())
        extra = set(message) - allowed_keys
        if extra:
            raise ValueError(f"{where} has unknown keys: {', '.join(sorted(extra))}.")
        role = message.get("role")
        roles = TOOL_ROLES if tools else MESSAGE_ROLES
        if role not in roles:
            raise ValueError(f"{where}: role must be one of {', '.join(roles)} (got {role!r}).")
        if "name" in message and (not isinstance(message["name"], str) or not 0 < len(message["name"]) <= 64):
            raise ValueError(f"{where}: name must be text of 1 to 64 characters.")
        content = message.get("content")
        if tools:
            total += _check_tool_fields(where, role, message)
            if content in (None, "") and (message.get("tool_calls") or role == "tool"):
                clean.append({k: message[k] for k in ("role", "content", "name", "tool_calls", "tool_call_id")
                              if k in message})
                continue
        if isinstance(content, str):
            if not content.strip():
                raise ValueError(f"{where}: content must not be empty.")
            total += len(content)
        elif isinstance(content, list) and content:
            for part in content:
                total += _check_part(spec, where, role, part)
        else:
            raise ValueError(f"{where}: content must be text or a non-empty list of content parts.")
        clean.append({k: message[k] for k in ("role", "content", "name", "tool_calls", "tool_call_id")
                      if k in message})
    if "max_length" in spec and total > spec["max_length"]:
        raise ValueError(f"{label} must be at most {spec['max_length']} characters in total (got {total}).")
    return clean


def _check_tool_fields(where: str, role: str, message: dict) -> int:
    """tool_calls on assistant messages and tool_call_id on tool results; returns their size."""
    size = 0
    if "tool_calls" in message:
        calls = message["tool_calls"]
        if role != "assistant" or not isinstance(calls, list) or not calls:
            raise ValueError(f"{where}: tool_calls must be a non-empty list on an assistant message.")
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(call.get("id") if isinstance(call, dict) else None, str) or not isinstance(function, dict) \
                    or not isinstance(function.get("name"), str) or not isinstance(function.get("arguments", ""), str):
                raise ValueError(f"{where}: each tool call needs an id and a function with a name and arguments.")
            size += len(function.get("arguments", ""))
    if role == "tool":
        if not isinstance(message.get("tool_call_id"), str) or not message["tool_call_id"]:
            raise ValueError(f"{where}: a tool message needs the tool_call_id it answers.")
    elif "tool_call_id" in message:
        raise ValueError(f"{where}: only tool messages carry a tool_call_id.")
    return size


def _json_depth(value, depth: int = 0) -> int:
    if depth > MAX_JSON_DEPTH:
        return depth
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_json_depth(child, depth + 1) for child in children), default=depth)


def _check_json(spec: dict, value):
    """Structured values passed to the upstream as they are (response_format, tools...)."""
    label = _label(spec)
    wanted = spec.get("json_type", "any")
    if isinstance(value, str) and wanted != "any":
        try:  # the web form sends JSON as text
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"{label} must be valid JSON.") from None
    if wanted in JSON_TYPES and not isinstance(value, JSON_TYPES[wanted]):
        raise ValueError(f"{label} must be a JSON {wanted}.")
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"{label} is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
    if isinstance(value, list):
        _check_items(spec, value)
    size = len(json.dumps(value, ensure_ascii=False, default=str))
    if "max_length" in spec and size > spec["max_length"]:
        raise ValueError(f"{label} must be at most {spec['max_length']} characters of JSON (got {size}).")
    return value


def _check_part(spec: dict, where: str, role: str, part) -> int:
    """Validate one content part; returns its character count."""
    if not isinstance(part, dict):
        raise ValueError(f"{where}: each content part must be an object with a type.")
    kind = part.get("type")
    if kind == "text":
        if not isinstance(part.get("text"), str) or not part["text"].strip():
            raise ValueError(f"{where}: a text part needs non-empty text.")
        return len(part["text"])
    if kind == "image_url":
        if not spec.get("vision"):
            raise ValueError(f"{where}: this model does not accept images.")
        if role != "user":
            raise ValueError(f"{where}: only user messages may contain images.")
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        _check_url(f"{where}: image_url", url)
        return 0
    raise ValueError(f"{where}: content part type must be text or image_url (got {kind!r}).")


def _check_range(spec: dict, number):
    label = _label(spec)
    if "min" in spec and number < Decimal(str(spec["min"])):
        raise ValueError(f"{label} must be at least {spec['min']}.")
    if "max" in spec and number > Decimal(str(spec["max"])):
        raise ValueError(f"{label} must be at most {spec['max']}.")
    return number


def _check_url(label: str, value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{label} must be a URL.")
    value = value.strip()
    parts = urlsplit(value)
    if value.startswith("data:image/") or value.startswith("data:audio/") or value.startswith("data:video/"):
        return value
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{label} must be an http(s) URL or a data: URI.")
    if len(value) > 4096:
        raise ValueError(f"{label} is too long (4096 characters at most).")
    return value


def condition_matches(condition: dict, params: dict) -> bool:
    for name, expected in condition.items():
        actual = params.get(name)
        if isinstance(expected, list):
            if actual not in expected:
                return False
        elif expected == "*":
            if _is_blank(actual):
                return False
        elif actual != expected:
            return False
    return True


def validate_params(schema: dict, raw: dict) -> dict:
    """Clean `raw` against `schema`; unknown parameters are an error, not silently dropped."""
    if not isinstance(raw, dict):
        failure = ValidationFailed()
        failure.add("params", "Parameters must be an object.")
        raise failure
    fields = {spec["name"]: spec for spec in schema.get("fields", [])}
    failure = ValidationFailed()
    clean: dict = {}
    for name in raw:
        if name not in fields:
            failure.add(name, f"Unknown parameter {name!r} for this model.")
    for name, spec in fields.items():
        value = raw.get(name)
        if _is_blank(value) and spec["type"] != "boolean":
            if spec.get("required"):
                failure.add(name, f"{_label(spec)} is required.")
            elif "default" in spec and spec["default"] is not None:
                clean[name] = spec["default"]
            continue
        if value is None:
            if "default" in spec:
                clean[name] = spec["default"]
            continue
        try:
            clean[name] = _coerce(spec, value)
        except ValueError as exc:
            failure.add(name, str(exc))
    if not failure.errors:
        for rule in schema.get("rules", []):
            if not condition_matches(rule.get("if", {}), clean):
                continue
            one_of = rule.get("one_of", [])
            given = [name for name in one_of if not _is_blank(clean.get(name))]
            if one_of and not given:
                failure.add(one_of[0], rule.get("message") or f"Give one of: {', '.join(one_of)}.")
            elif len(given) > 1:
                failure.add(given[1], f"Give only one of: {', '.join(one_of)} (got {', '.join(given)}).")
            for name in rule.get("require", []):
                if _is_blank(clean.get(name)):
                    failure.add(name, rule.get("message") or f"{_label(fields[name])} is required here.")
            if rule.get("forbid"):
                target = rule.get("field") or next(iter(rule["if"]))
                failure.add(target, rule["message"])
    if failure.errors:
        raise failure
    return clean


def check_schema(schema: dict) -> list[str]:
    """Problems with a schema itself (used by tests and sync_catalog)."""
    problems = []
    names = set()
    for spec in schema.get("fields", []):
        name = spec.get("name")
        if not name:
            problems.append("a field has no name")
            continue
        if name in names:
            problems.append(f"{name}: duplicate field")
        names.add(name)
        if spec.get("type") not in FIELD_TYPES:
            problems.append(f"{name}: unknown type {spec.get('type')!r}")
        if spec.get("type") == "enum" and not spec.get("choices"):
            problems.append(f"{name}: enum without choices")
        if spec.get("type") in {"integer", "number"} and "min" in spec and "max" in spec and spec["min"] > spec["max"]:
            problems.append(f"{name}: min is above max")
        for key in ("default", "example"):
            if key in spec and spec[key] is not None:
                try:
                    _coerce(spec, spec[key])
                except ValueError as exc:
                    problems.append(f"{name}: {key} invalid: {exc}")
        if spec.get("required") and "default" in spec:
            problems.append(f"{name}: a required field cannot have a default")
    for rule in schema.get("rules", []):
        if not ({"require", "forbid", "one_of"} & set(rule)):
            problems.append(f"a rule does nothing: {rule}")
        for name in list(rule.get("if", {})) + list(rule.get("require", [])) + list(rule.get("one_of", [])):
            if name not in names:
                problems.append(f"rule refers to unknown field {name!r}")
        if rule.get("forbid") and not rule.get("message"):
            problems.append("a forbid rule needs a message")
    return problems
