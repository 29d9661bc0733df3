"""The MCP server: the tools of apps/agents/tools.py on the official SDK's low-level `Server`.

The low-level server (not MCPServer's decorators) because the input schemas come from the
catalog at list time, not from Python signatures: a model an admin enables shows up in
generate_media's schema within the catalog cache's few seconds.

Who is calling is a `Principal` in a context variable, set by the transport before the SDK
runs: the HTTP view (apps/agents/http.py) from the request's Bearer key, `manage.py mcp` from
the key in its environment. Tools run Django code through `sync_to_async(thread_sensitive=True)`:
under the HTTP view that is the WSGI request thread itself (its database connection), under
stdio one long-lived thread.

Errors reach the agent as tool results with `isError` and a structured `error` object
(code, message, the parameter at fault, retry_after_seconds, whether retrying can help), the
way MCP asks tools to report failures the model can act on."""
from __future__ import annotations

import contextvars
import json
import logging
import math

import mcp_types as types
from asgiref.sync import sync_to_async
from django.conf import settings
from mcp.server.lowlevel import Server
from pydantic import ValidationError

from apps.api.services import Principal
from apps.catalog.schema import ValidationFailed
from apps.core.errors import ApplicationError, Kind
from apps.core.http import status_for

from .tools import TOOLS, ToolError, input_schema, take_limits

log = logging.getLogger(__name__)

current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("mcp_principal", default=None)

INSTRUCTIONS = (
    "Atelier makes images, videos, speech, music and ad creatives from many AI models, paid in credits. "
    "Check get_balance and get_models (or quote) before expensive jobs. generate_media, generate_music and "
    "create_ad_copy return generation ids: poll get_generation_status (get_music_status for songs) every 2-5 s "
    "until completed or failed. On rate_limited wait retry_after_seconds; on insufficient_credits or "
    "invalid_request do not retry unchanged."
)

# What an agent should do about each kind of refusal.
ADVICE = {
    Kind.INVALID: "Fix the named parameter; retrying unchanged fails again.",
    Kind.PAYMENT: "Not enough credits: ask the user to top up, or pick a cheaper model or options.",
    Kind.FORBIDDEN: "This API key may not do this; ask the user for a key that may.",
    Kind.NOT_FOUND: "Check the id: it does not exist in this workspace.",
    Kind.CONFLICT: "The job's state does not allow this any more.",
    Kind.RATE_LIMITED: "Too many requests: wait retry_after_seconds, then retry.",
    Kind.UNAVAILABLE: "Temporarily unavailable: retry in a little while.",
    Kind.TIMEOUT: "Still working: poll again later.",
    Kind.UPSTREAM: "The upstream provider failed: retry later or pick another model.",
}
RETRYABLE = {Kind.RATE_LIMITED, Kind.UNAVAILABLE, Kind.TIMEOUT, Kind.UPSTREAM}


def error_object(exc: ApplicationError) -> dict:
    fields = exc.fields or {}
    param = getattr(exc, "param", None) or next(iter(fields), None)
    message = exc.message
    if param in fields and message == "Some parameters are not valid.":
        message = f"{message} {param}: {' '.join(fields[param])}"  # agents often read only the message
    error = {"code": exc.code, "message": message, "kind": exc.kind, "status": status_for(exc),
             "param": param, "retryable": exc.kind in RETRYABLE, "action": ADVICE.get(exc.kind, "")}
    if fields:
        error["fields"] = fields
    if exc.retry_after is not None:
        error["retry_after_seconds"] = max(1, math.ceil(exc.retry_after))
    return error


def _failure(error: dict) -> types.CallToolResult:
    wait = f" Retry after {error['retry_after_seconds']} s." if "retry_after_seconds" in error else ""
    text = f"{error['code']}: {error['message']}{wait} {error['action']}".strip()
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content={"error": error},
                                is_error=True)


def _pydantic_fields(exc: ValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for item in exc.errors():
        name = ".".join(str(part) for part in item.get("loc", ())) or "arguments"
        message = "Unknown argument." if item.get("type") == "extra_forbidden" else item.get("msg", "Invalid value.")
        fields.setdefault(name, []).append(message)
    return fields


def tool_list() -> list[types.Tool]:
    return [types.Tool(
        name=tool.name, title=tool.title, description=tool.description, input_schema=input_schema(tool),
        annotations=types.ToolAnnotations(title=tool.title, read_only_hint=tool.read_only,
                                          destructive_hint=tool.name == "cancel_generation",
                                          idempotent_hint=tool.read_only, open_world_hint=False),
    ) for tool in TOOLS.values()]


def tool_call(principal: Principal | None, name: str, arguments: dict) -> types.CallToolResult:
    """Run one tool for `principal`; every refusal becomes an isError result."""
    tool = TOOLS.get(name)
    if tool is None:
        return _failure(error_object(ToolError(f"No tool named {name!r}.", code="unknown_tool")))
    if principal is None:  # a transport bug, never the agent's doing
        return _failure(error_object(ToolError("No API key for this session.", code="missing_api_key",
                                               kind=Kind.UNAUTHENTICATED)))
    try:
        if principal.is_publishable:
            raise ToolError("Publishable keys cannot use the MCP tools; use a secret key.", code="permission_denied",
                            kind=Kind.FORBIDDEN)
        take_limits(principal, tool)
        args = tool.args.model_validate(arguments)
        result = tool.run(principal, args)
    except ValidationError as exc:
        fields = _pydantic_fields(exc)
        first = next(iter(fields))
        return _failure(error_object(ToolError(f"Invalid arguments: {first}: {fields[first][0]}",
                                               code="invalid_request", fields=fields)))
    except ValidationFailed as exc:
        return _failure(error_object(ToolError("Some parameters are not valid.", code=exc.code, fields=exc.errors)))
    except ApplicationError as exc:
        return _failure(error_object(exc))
    except Exception:
        log.exception("MCP tool %s failed", name)
        return _failure(error_object(ToolError("Something went wrong on our side.", code="internal_error",
                                               kind=Kind.INTERNAL)))
    return types.CallToolResult(content=[types.TextContent(text=json.dumps(result, ensure_ascii=False))],
                                structured_content=result)


async def _list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=await sync_to_async(tool_list, thread_sensitive=True)())


async def _call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    call = sync_to_async(tool_call, thread_sensitive=True)
    return await call(current_principal.get(), params.name, dict(params.arguments or {}))


def build_server() -> Server:
    return Server("atelier", version="1", title="Atelier", instructions=INSTRUCTIONS,
                  website_url=settings.SITE_URL, on_list_tools=_list_tools, on_call_tool=_call_tool)


server = build_server()
