"""Every answer on an API path: the rate-limit headers of the key's window, and the API's error
envelope even where Django or ninja answer first (an unknown path under /v1 or /api/v1 is
Django's HTML 404; a wrong method is ninja's plain 405)."""
from __future__ import annotations

from apps.core.errors import Kind

from .errors import ApiError, error_response

API_PREFIXES = ("/v1/", "/api/v1/")


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        window = getattr(request, "rate_limit", None)
        if window is not None:
            for name, value in window.headers().items():
                response.headers.setdefault(name, value)
        if response.status_code not in (404, 405) or not request.path.startswith(API_PREFIXES):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            shaped = error_response(ApiError("method_not_allowed", f"Use {allowed or 'another method'} here.",
                                             kind=Kind.INVALID, headers={"Allow": allowed}))
            shaped.status_code = 405
            return shaped
        return error_response(ApiError("not_found", f"No API endpoint at {request.path}.", kind=Kind.NOT_FOUND))
