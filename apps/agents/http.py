"""`/mcp`: the SDK's Streamable HTTP transport served from the WSGI deployment.

The production server runs Django over WSGI (granian), and the SDK's transport is an ASGI
application. Rather than a second server or an ASGI->WSGI adapter in front of Django, this view
drives the SDK's own `StreamableHTTPSessionManager` in its stateless JSON-response mode, one
HTTP exchange per call:

- stateless: no session lives between requests, so any web process (or machine) can answer
  any request and nothing is held in memory between calls;
- JSON responses: each POST gets one `application/json` answer, so no WSGI thread is held
  open by a stream. The tools never need a long-lived stream: jobs are started and then polled.

The view authenticates the Bearer key first (the API's own check and error envelope, 401 with
`WWW-Authenticate`), then hands the request to the SDK as an ASGI scope on an event loop
(`async_to_sync`) while the tools' Django code runs back on this request thread
(server.py). Django has already checked the Host header against ALLOWED_HOSTS, so the SDK's
own DNS-rebinding check is off; the key is a header, not a cookie, so a browser page cannot
call this with someone's credentials. GET (a server-to-client stream) and DELETE (end a session)
answer 405: a stateless server has neither, as the transport spec allows."""
from __future__ import annotations

import anyio
from asgiref.sync import async_to_sync
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from apps.api.errors import error_response
from apps.api.services import api_key_authenticate
from apps.core.errors import ApplicationError

from .server import current_principal, server

MAX_BODY = 4 * 1024 * 1024  # the SDK's own default; data: URIs of source media can be large
NO_REBINDING_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def _jsonrpc_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}, status=status)


def _scope(request: HttpRequest) -> dict:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in request.headers.items()]
    server_name, _, server_port = request.get_host().partition(":")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
        "scheme": request.scheme, "path": request.path, "raw_path": request.path.encode(),
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"), "root_path": "",
        "headers": headers, "client": (request.META.get("REMOTE_ADDR", ""), 0),
        "server": (server_name, int(server_port or (443 if request.is_secure() else 80))),
    }


async def _exchange(principal, scope: dict, body: bytes) -> tuple[int, list, bytes]:
    """One request through the SDK's transport; returns (status, headers, body)."""
    current_principal.set(principal)  # inherited by the tasks the manager starts below
    manager = StreamableHTTPSessionManager(app=server, json_response=True, stateless=True,
                                           security_settings=NO_REBINDING_CHECK, max_request_body_size=MAX_BODY)
    answered = anyio.Event()
    sent_body = False
    status, headers, chunks = 500, [], []

    async def receive():
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()  # the client "disconnects" only once the answer is complete
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                answered.set()

    async with manager.run():
        await manager.handle_request(scope, receive, send)
    return status, headers, b"".join(chunks)


@csrf_exempt
def mcp_endpoint(request: HttpRequest) -> HttpResponse:
    try:
        principal = api_key_authenticate(authorization=request.headers.get("Authorization", ""))
    except ApplicationError as exc:
        return error_response(exc)
    if request.method != "POST":
        # Answered here: the SDK would open a stream for a GET, holding this thread until it ends.
        response = _jsonrpc_error(405, "This server is stateless: POST JSON-RPC messages; there is no stream "
                                  "to open and no session to end.")
        response["Allow"] = "POST"
        return response
    try:
        body = request.body
    except RequestDataTooBig:
        return _jsonrpc_error(413, "The request body is too large.")
    if len(body) > MAX_BODY:
        return _jsonrpc_error(413, "The request body is too large.")
    status, headers, content = async_to_sync(_exchange)(principal, _scope(request), body)
    response = HttpResponse(content, status=status)
    for name, value in headers:
        key = name.decode("latin-1")
        if key.lower() not in ("content-length", "connection", "transfer-encoding"):
            response[key] = value.decode("latin-1")
    return response
