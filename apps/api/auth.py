"""API authentication and the per-request limits: a key becomes request.auth (a Principal).

Each operation says what it needs through its auth object:
- `key_auth` (the API's default): a secret key with the `generate` permission;
- `KeyAuth(permission="account:balance")`: another permission;
- `KeyAuth(publishable=True)`: publishable keys welcome too (pollinations' simple GETs);
- `optional_principal(request)` on public listings: no key is fine, a key narrows the answer.

A key is sent as `Authorization: Bearer <key>` or `?key=<key>` (reference 002). After the key
is known, its sliding-minute windows are taken: status reads (GET) count against the plan's
polls_per_minute, everything else against requests_per_minute (reference 004 separates them);
a publishable key counts per client IP instead; the workspace's window when the plan has one."""
from __future__ import annotations

from django.http import HttpRequest

from apps.core.errors import Kind

from .errors import ApiError
from .limits import Hit, rate_hits
from .services import Principal, api_key_authenticate, api_key_principal

# GETs that start work (pollinations' /image/{prompt} and /text/{prompt}) are requests, not polls.
GENERATING_GETS = ("/image/", "/text/")
LISTINGS = ("/image/models", "/text/models")


def authenticate(request: HttpRequest) -> Principal:
    header = request.headers.get("Authorization", "")
    if header:
        return api_key_authenticate(authorization=header)
    return api_key_principal(secret=request.GET.get("key", "").strip())


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _is_poll(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.path
    return not path.startswith(GENERATING_GETS) or path.startswith(LISTINGS)


def take_rate_limits(request: HttpRequest, principal: Principal) -> None:
    """The principal's windows for this request; request.rate_limit holds the key's, for headers."""
    plan = principal.plan
    if principal.is_publishable:
        own = Hit("ip", client_ip(request), plan.publishable_requests_per_minute, "requests from this address")
    elif _is_poll(request):
        own = Hit("poll", str(principal.key_id), plan.polls_per_minute, "status reads")
    else:
        own = Hit("key", str(principal.key_id), principal.requests_per_minute or plan.requests_per_minute, "requests")
    workspace = Hit("workspace", str(principal.workspace.pk), plan.workspace_requests_per_minute,
                    "requests in this workspace")
    request.rate_limit = rate_hits([own, workspace])[0]


class KeyAuth:
    """Bearer key (or ?key=); refusals raise ApiError with a precise code instead of returning
    None, so clients learn whether the key is missing, unknown, paused, expired or not allowed."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, permission: str | None = "generate", *, publishable: bool = False):
        self.permission = permission
        self.publishable = publishable

    def __call__(self, request: HttpRequest) -> Principal:
        principal = authenticate(request)
        if principal.is_publishable and not self.publishable:
            raise ApiError("permission_denied", "Publishable keys only make the simple GETs (/image, /text) and "
                           "read the model lists; use a secret key on your server for this.", kind=Kind.FORBIDDEN)
        if self.permission and self.permission not in principal.permissions:
            raise ApiError("permission_denied", f"This API key lacks the {self.permission} permission.",
                           kind=Kind.FORBIDDEN)
        take_rate_limits(request, principal)
        return principal


key_auth = KeyAuth()
simple_get_auth = KeyAuth(publishable=True)


def account_auth(permission: str) -> KeyAuth:
    return KeyAuth(permission)


def optional_principal(request: HttpRequest) -> Principal | None:
    """For public endpoints that narrow their answer for a key (model lists): no key is fine."""
    if not request.headers.get("Authorization") and not request.GET.get("key"):
        return None
    principal = KeyAuth("models", publishable=True)(request)
    request.auth = principal
    return principal


def require_permission(request: HttpRequest, permission: str) -> Principal:
    """The request's principal if its key carries `permission`, else 403 permission_denied."""
    principal = request.auth
    if permission not in principal.permissions:
        raise ApiError("permission_denied", f"This API key lacks the {permission} permission.",
                       kind=Kind.FORBIDDEN)
    return principal
