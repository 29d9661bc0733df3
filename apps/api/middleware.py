"""API paths answer in the API's error envelope even where Django or ninja answer first:
an unknown path under /v1 or /api/v1 (Django's HTML 404) and a wrong method (ninja's plain 405)."""
from __future__ import annotations

from apps.core.errors import Kind

from .errors import ApiError, error_response

API_PREFIXES = ("/v1/", "/api/v1/")


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
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
