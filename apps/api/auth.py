"""API authentication: a Bearer key (or ?key= on the simple GETs) becomes request.auth."""
from __future__ import annotations

from django.http import HttpRequest

from apps.core.errors import Kind

from .errors import ApiError
from .services import Principal, api_key_authenticate, api_key_principal


class KeyAuth:
    """Bearer key (or ?key= for the simple GETs); the principal lands on request.auth.

    A refusal raises ApiError (401 with a precise code) instead of returning None, so clients
    learn whether the key is missing, unknown, revoked or expired."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Principal:
        header = request.headers.get("Authorization", "")
        if header:
            return api_key_authenticate(authorization=header)
        return api_key_principal(secret=request.GET.get("key", "").strip())


key_auth = KeyAuth()


def optional_principal(request: HttpRequest) -> Principal | None:
    """For public endpoints that narrow their answer for a key (model lists): no key is fine."""
    if not request.headers.get("Authorization") and not request.GET.get("key"):
        return None
    return key_auth(request)


def require_permission(request: HttpRequest, permission: str) -> Principal:
    """The request's principal if its key carries `permission`, else 403 permission_denied."""
    principal = request.auth
    if permission not in principal.permissions:
        raise ApiError("permission_denied", f"This API key lacks the {permission} permission.",
                       kind=Kind.FORBIDDEN)
    return principal
