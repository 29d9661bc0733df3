"""Every answer on an API path: the rate-limit headers of the key's window, and the API's error
envelope even where Django or ninja answer first (an unknown path under /v1 or /api/v1 is
Django's HTML 404; a wrong method is ninja's plain 405)."""
from __future__ import annotations

from django.http import HttpResponse

from apps.core.errors import Kind

from .errors import ApiError, error_response

API_PREFIXES = ("/v1/", "/api/v1/")
# What a browser app may call with a publishable key (reference 002): the simple GETs and the
# model lists. Only these answer CORS, and only to publishable keys or no key at all: a secret
# key is refused to any page that is not this site.
CORS_PATHS = ("/image/", "/text/", "/v1/models", "/api/v1/models")
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Expose-Headers": "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
                                                 "Retry-After, X-Atelier-Generation-Id",
                "Access-Control-Max-Age": "600"}


def _cors_path(request) -> bool:
    return request.path.startswith(CORS_PATHS)


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "OPTIONS" and "HTTP_ORIGIN" in request.META and _cors_path(request):
            preflight = HttpResponse(status=204)
            for name, value in CORS_HEADERS.items():
                preflight[name] = value
            return preflight
        response = self.get_response(request)
        if "HTTP_ORIGIN" in request.META and _cors_path(request):
            principal = getattr(request, "auth", None)
            if principal is None or getattr(principal, "is_publishable", False):
                for name, value in CORS_HEADERS.items():
                    response[name] = value
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
