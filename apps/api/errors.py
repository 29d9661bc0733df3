"""The API's error shape: {"error": {"code", "message", "type", "fields"?}} with stable codes.

`code` is what programs branch on; `message` is for people; `type` groups codes the way
OpenAI-compatible clients expect; `fields` maps a parameter to its messages."""
from __future__ import annotations

from django.http import JsonResponse

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_credits_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(error: ApiError) -> JsonResponse:
    body = {"code": error.code, "message": error.message, "type": TYPES.get(error.status, "api_error")}
    if error.fields:
        body["fields"] = error.fields
    response = JsonResponse({"error": body}, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def not_found(what: str = "resource") -> ApiError:
    return ApiError("not_found", f"No such {what}.", status=404)
