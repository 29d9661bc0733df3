"""Strict JSON bodies: size, depth, NaN/Infinity, huge integers, NUL and lone surrogates are
refused with a 4xx before any service sees the value (they would otherwise fail deep inside,
differently on SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import re

from django.http import HttpRequest
from ninja.parser import Parser

from apps.core.errors import Kind

from .errors import ApiError

MAX_JSON_BYTES = 512 * 1024  # reference 004's request size limit
MAX_JSON_DEPTH = 64
MAX_INTEGER_DIGITS = 40  # beyond any database column; refused before it reaches one
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _refuse_constant(name: str):
    raise ApiError("invalid_json", f"{name} is not valid JSON.")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ApiError("invalid_json", f"An integer in the body has more than {MAX_INTEGER_DIGITS} digits.")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ApiError("invalid_json", f"The number {text[:40]} is out of range.")
    return value


def _check_value(value, depth: int = 0):
    if depth > MAX_JSON_DEPTH:
        raise ApiError("invalid_json", f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError("invalid_json", "Strings must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError("invalid_json", "Strings must not contain unpaired surrogates.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(key, depth + 1)
            _check_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_value(item, depth + 1)


def _depth_ok(body: bytes) -> bool:
    """Cheap upper bound on nesting (brackets seen before closing), so deep input never recurses."""
    depth = peak = 0
    for byte in body:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            peak = max(peak, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return peak <= MAX_JSON_DEPTH


def parse_json(body: bytes):
    """The decoded body, or ApiError: 413 over the size limit, 400 invalid_json otherwise."""
    if len(body) > MAX_JSON_BYTES:
        raise ApiError("request_too_large", f"The request body is over {MAX_JSON_BYTES // 1024} KB.",
                       kind=Kind.TOO_LARGE)
    if not _depth_ok(body):  # brackets inside strings count too: an upper bound, never too lenient
        raise ApiError("invalid_json", f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("invalid_json", "The request body is not UTF-8.") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_parse_int,
                           parse_float=_parse_float)
    except ApiError:
        raise
    except (ValueError, RecursionError):
        raise ApiError("invalid_json", "The request body is not valid JSON.") from None
    if "\x00" in text or SUSPECT_ESCAPE.search(body):
        _check_value(value)  # only bodies that could hold a NUL or a lone surrogate are walked
    return value


class StrictParser(Parser):
    def parse_body(self, request: HttpRequest):
        content_type = request.content_type or ""
        if content_type not in ("application/json", "") and not content_type.endswith("+json"):
            raise ApiError("unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
        value = parse_json(request.body)
        if not isinstance(value, dict):
            raise ApiError("invalid_json", "The request body must be a JSON object.")
        return value
