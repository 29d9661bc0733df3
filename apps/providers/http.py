"""HTTP for adapters: pooled clients, explicit timeouts, and one error mapping for every provider.

Adapters call request()/stream() with their ChannelConfig and a path; any failure comes back as
a ProviderError subclass (see base.py) with a stable code, so the failover logic in
generations.services never has to know which provider it is talking to.

Timeouts come from the channel's options: {"timeout": <read seconds>, "connect_timeout": <s>}.
Redirects are not followed: a configured upstream that redirects is misconfigured, and
following it could carry the channel's key to another host."""
from __future__ import annotations

import json as jsonlib
import os
import threading
import time
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Iterator

import httpx

from .base import (
    AuthError,
    ChannelConfig,
    ContentFiltered,
    InvalidInput,
    NotFound,
    PermanentError,
    ProviderError,
    RateLimited,
    RouteUnsupported,
    TransientError,
    UpstreamTimeout,
)

DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 5.0
USER_AGENT = "Atelier/0.1 (+https://github.com/atelier)"
MAX_ERROR_MESSAGE = 500

# Words providers use when a prompt or result trips their safety system. Matched in the error
# code/type/message of a 4xx answer (lower-cased).
CONTENT_POLICY_MARKERS = (
    "content_policy", "content policy", "moderation_blocked", "moderation", "content_filter", "safety system",
    "safety_filter", "responsible ai", "nsfw", "flagged", "sensitive content", "blocked by our safety",
    "outputimagesensitivecontentdetected", "inputtextsensitivecontentdetected", "prohibited_content",
)

# Words a 4xx answer uses when the upstream does not take a parameter, a value or the model id
# that this route sent: the request may be fine elsewhere, so it fails over (see base.py, scope).
# Matched like the content-policy markers; an invalid prompt or image matches none of them.
ROUTE_MARKERS = (
    "unsupported_parameter", "unsupported_value", "unknown_parameter", "unknown parameter",
    "unrecognized request argument", "extra_forbidden", "extra inputs are not permitted",
    "additional property", "additionalproperties", "not supported", "unsupported", "model_not_found",
    "invalidendpointormodel", "does not exist", "no such model", "unknown model", "invalid model",
)

# Error codes that name the refusal exactly: they win over a content-policy word in the message
# ("Unsupported parameter: 'moderation'" is not a moderation block).
ROUTE_CODES = {"unsupported_parameter", "unsupported_value", "unknown_parameter", "model_not_found",
               "invalidendpointormodel.notfound", "extra_forbidden"}

_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def _forget_clients_in_child() -> None:
    """A forked worker (Celery prefork) must not share the parent's pooled sockets: it starts
    with an empty pool. The parent's clients are dropped, not closed, so its sockets live on."""
    global _clients_lock
    _clients.clear()
    _clients_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_clients_in_child)


# ---- clients --------------------------------------------------------------------------------
def _pool_key(base_url: str) -> str:
    url = httpx.URL(base_url)
    return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def client_for(base_url: str) -> httpx.Client:
    """One client (one connection pool) per upstream origin, shared by all threads."""
    key = _pool_key(base_url)
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = httpx.Client(
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30),
            )
            _clients[key] = client
    return client


def close_clients() -> None:
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def timeout_for(channel: ChannelConfig, read: float | None = None) -> httpx.Timeout:
    options = channel.options or {}
    read_seconds = float(options.get("timeout") or read or DEFAULT_READ_TIMEOUT)
    connect_seconds = float(options.get("connect_timeout") or min(DEFAULT_CONNECT_TIMEOUT, read_seconds))
    return httpx.Timeout(read_seconds, connect=connect_seconds)


def url_for(channel: ChannelConfig, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    if not channel.base_url:
        raise PermanentError(f"Channel {channel.name!r} has no base URL", code="channel_misconfigured")
    return channel.base_url.rstrip("/") + "/" + path.lstrip("/")


# ---- the error mapping -----------------------------------------------------------------------
def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _retry_after(headers: httpx.Headers | dict) -> float | None:
    headers = httpx.Headers(headers)
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(filter(None, (_text(item) for item in value)))
    if isinstance(value, dict):
        for key in ("message", "msg", "detail", "error", "title", "status", "description"):
            if value.get(key):
                text = _text(value[key])
                location = value.get("loc")
                if key == "msg" and isinstance(location, list):  # FastAPI/pydantic validation errors
                    text = f"{'.'.join(str(part) for part in location)}: {text}"
                return text
        return jsonlib.dumps(value)[:MAX_ERROR_MESSAGE]
    return str(value)


def error_details(body) -> tuple[str, str]:
    """(message, code) from the error shapes providers use:
    OpenAI {"error": {"message", "type", "code"}}, ElevenLabs {"detail": {"status", "message"}},
    FastAPI {"detail": [{"loc", "msg"}]}, Replicate/fal {"detail": "..."}, Google
    {"error": {"code", "message", "status"}}, ComfyUI {"error": {...}, "node_errors": {...}},
    plain {"message": ...} or {"error": "..."}."""
    if isinstance(body, str):
        return body.strip()[:MAX_ERROR_MESSAGE], ""
    if not isinstance(body, dict):
        return _text(body)[:MAX_ERROR_MESSAGE], ""
    code = ""
    for container in (body.get("error"), body.get("detail"), body):
        if isinstance(container, dict):
            for key in ("code", "type", "status"):
                if isinstance(container.get(key), str) and container[key]:
                    code = container[key]
                    break
        if code:
            break
    if isinstance(body.get("error"), str) and body.get("errors") and isinstance(body["errors"], str):
        # AUTOMATIC1111's exception shape: the exception class in "error", its text in "errors".
        return f"{body['error']}: {body['errors']}"[:MAX_ERROR_MESSAGE], code
    for key in ("error", "detail", "message", "errors", "msg", "title"):
        if body.get(key):
            message = _text(body[key])
            node_errors = body.get("node_errors")
            if node_errors:
                message = f"{message} ({_node_error_text(node_errors)})"
            details = body["error"].get("details") if isinstance(body.get("error"), dict) else None
            field_errors = details.get("fieldErrors") if isinstance(details, dict) else None
            if isinstance(field_errors, dict) and field_errors:  # pollinations' zod validation errors
                message = f"{message} ({'; '.join(f'{name}: {_text(errs)}' for name, errs in field_errors.items())})"
            return message[:MAX_ERROR_MESSAGE], code
    return jsonlib.dumps(body)[:MAX_ERROR_MESSAGE], code


def _node_error_text(node_errors) -> str:
    if not isinstance(node_errors, dict):
        return _text(node_errors)
    parts = []
    for node_id, info in node_errors.items():
        errors = info.get("errors", []) if isinstance(info, dict) else []
        details = "; ".join(
            ": ".join(str(e[k]) for k in ("message", "details") if e.get(k)) if isinstance(e, dict) else _text(e)
            for e in errors)
        kind = info.get("class_type", "") if isinstance(info, dict) else ""
        parts.append(f"node {node_id} {kind}: {details}".strip())
    return "; ".join(parts)


def _is_content_policy(message: str, code: str) -> bool:
    haystack = f"{code} {message}".lower()
    return any(marker in haystack for marker in CONTENT_POLICY_MARKERS)


def _is_route_refusal(message: str, code: str) -> bool:
    haystack = f"{code} {message}".lower()
    return any(marker in haystack for marker in ROUTE_MARKERS)


def error_for(status: int, body=None, headers=None, *, provider: str = "upstream") -> ProviderError:
    """The one mapping from an HTTP error answer to a ProviderError (which keeps the body).

    body is the decoded JSON (or text) of the answer; headers give Retry-After."""
    error = _error_for(status, body, headers, provider)
    error.body = body
    return error


def _error_for(status: int, body, headers, provider: str) -> ProviderError:
    message, code = error_details(body if body is not None else "")
    message = message or f"HTTP {status}"
    text = f"{provider} answered {status}: {message}"
    if status == 429:
        return RateLimited(text, retry_after=_retry_after(headers or {}), status=status)
    if status in (400, 422) and code.lower() in ROUTE_CODES:
        return RouteUnsupported(text, status=status)
    if status in (400, 403, 422, 451) and _is_content_policy(message, code):
        return ContentFiltered(text, status=status)
    if status in (400, 422) and _is_route_refusal(message, code):
        return RouteUnsupported(text, status=status)
    if status in (400, 413, 415, 422):
        return InvalidInput(text, status=status)
    if status in (401, 402, 403):
        # 402: the upstream account is out of credit; like a refused key, another channel may work.
        return AuthError(text, status=status)
    if status in (404, 410):
        return NotFound(text, status=status)
    if status == 408:
        return UpstreamTimeout(text, status=status)
    if status >= 500 or status == 409:
        return TransientError(text, retry_after=_retry_after(headers or {}), status=status)
    return PermanentError(text, status=status)


def error_for_transport(exc: httpx.HTTPError, *, provider: str = "upstream") -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(f"{provider} did not answer in time ({exc.__class__.__name__})")
    return TransientError(f"{provider} unreachable: {exc.__class__.__name__}: {exc}"[:MAX_ERROR_MESSAGE])


def _decoded_error_body(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return response.text


def raise_for_status(response: httpx.Response, *, provider: str = "upstream") -> None:
    if response.status_code >= 400:
        raise error_for(response.status_code, _decoded_error_body(response), response.headers, provider=provider)


def json_body(response: httpx.Response, *, provider: str = "upstream"):
    """The decoded JSON of a successful answer; anything else is a transient bad response."""
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{provider} sent a body that is not valid JSON", code="upstream_bad_response",
                             status=response.status_code) from None


def bad_response(message: str, *, provider: str = "upstream") -> TransientError:
    """For well-formed JSON that lacks what the API promises (missing fields, unknown status)."""
    return TransientError(f"{provider}: {message}", code="upstream_bad_response")


# ---- requests -------------------------------------------------------------------------------
def request(channel: ChannelConfig, method: str, path: str, *, read_timeout: float | None = None,
            provider: str | None = None, **kwargs) -> httpx.Response:
    """One HTTP call; returns a 2xx/3xx response or raises a ProviderError."""
    provider = provider or channel.adapter
    try:
        response = client_for(url_for(channel, path)).request(
            method, url_for(channel, path), timeout=timeout_for(channel, read_timeout), **kwargs
        )
    except httpx.HTTPError as exc:
        raise error_for_transport(exc, provider=provider) from exc
    raise_for_status(response, provider=provider)
    return response


@contextmanager
def stream(channel: ChannelConfig, method: str, path: str, *, read_timeout: float | None = None,
           provider: str | None = None, **kwargs) -> Iterator[httpx.Response]:
    """A streamed call (SSE, large bodies). Errors while reading map like request()'s."""
    provider = provider or channel.adapter
    url = url_for(channel, path)
    try:
        with client_for(url).stream(method, url, timeout=timeout_for(channel, read_timeout), **kwargs) as response:
            if response.status_code >= 400:
                response.read()
                raise_for_status(response, provider=provider)
            yield response
    except httpx.HTTPError as exc:
        raise error_for_transport(exc, provider=provider) from exc


def iter_sse(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream; multi-line data joined with newlines."""
    event, data = "", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield event or "message", "\n".join(data)


def bearer(api_key: str) -> dict:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


# ---- user media sent upstream -------------------------------------------------------------------
MAX_SOURCE_BYTES = 50 * 1024 * 1024


def fetch_source(url: str, *, max_bytes: int = MAX_SOURCE_BYTES, field: str = "image_url") -> tuple[bytes, str]:
    """Download a user-supplied media URL to upload it to a provider (public addresses only).
    A refused URL is the user's mistake (InvalidInput); a failed download may work later."""
    from .safe_http import FetchRefused, safe_get

    if url.startswith("data:"):
        # Atelier's own uploads and outputs arrive inlined (apps/generations/sources.py).
        return _data_uri(url, max_bytes=max_bytes, field=field)
    try:
        data, content_type = safe_get(url, max_bytes=max_bytes)
    except FetchRefused as exc:
        raise InvalidInput(f"{field}: {exc}", code="invalid_source_url") from exc
    except (OSError, httpx.HTTPError) as exc:
        raise TransientError(f"{field}: could not download the source file ({exc})"[:MAX_ERROR_MESSAGE]) from exc
    return data, content_type.split(";")[0].strip()


def _data_uri(url: str, *, max_bytes: int, field: str) -> tuple[bytes, str]:
    import base64
    import binascii
    from urllib.parse import unquote_to_bytes

    header, comma, payload = url.partition(",")
    mime = header[5:].split(";")[0].strip().lower()
    if not comma or not mime.startswith(("image/", "audio/", "video/")):
        raise InvalidInput(f"{field}: not a media data: URI", code="invalid_source_url")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise InvalidInput(f"{field}: the file is over {max_bytes} bytes", code="invalid_source_url")
    try:
        data = base64.b64decode(payload) if header.lower().endswith(";base64") else unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field}: broken base64 data", code="invalid_source_url") from exc
    return data, mime
