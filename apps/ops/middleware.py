"""Outermost middleware: request id, the client's address behind trusted proxies, web latency,
and the retryable 503 for a busy database."""
from __future__ import annotations

import time

from django.conf import settings

from config.logs import accept_request_id, request_id_var

from .busy import busy_response, is_database_busy
from .metrics import WEB_SECONDS


def client_address(meta: dict, trusted_proxies: int) -> str:
    """The address of whoever called the first trusted proxy.

    Each of the `trusted_proxies` proxies appends the address it was called from to
    X-Forwarded-For, so the client is that many entries from the right; anything further left
    was written by the client and is not believed. With no trusted proxy it is the peer."""
    peer = meta.get("REMOTE_ADDR", "")
    if trusted_proxies <= 0:
        return peer
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < trusted_proxies:
        return hops[0] if hops else peer  # fewer hops than proxies: the leftmost is the best we know
    return hops[-trusted_proxies]


class OpsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted_proxies = settings.TRUSTED_PROXY_COUNT

    def __call__(self, request):
        request_id = accept_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        request_id_var.set(request_id)  # each request sets its own; the worker thread's next one overwrites it
        if self.trusted_proxies:
            request.META["ATELIER_PEER_ADDR"] = request.META.get("REMOTE_ADDR", "")
            request.META["REMOTE_ADDR"] = client_address(request.META, self.trusted_proxies)
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        WEB_SECONDS.labels(method=request.method, route=route, status=str(response.status_code)).observe(
            time.perf_counter() - started)
        response["X-Request-ID"] = request_id
        return response

    def process_exception(self, request, exception):
        if is_database_busy(exception):
            return busy_response(request, exception)
        return None


class AdminMFAMiddleware:
    """With ADMIN_REQUIRE_MFA, a staff account without an authenticator cannot open Django admin:
    it is sent to set one up (allauth's /accounts/2fa/) and comes back after."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.ADMIN_REQUIRE_MFA and request.path.startswith(admin_prefix()):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.is_staff and not staff_has_mfa(user):
                from django.contrib import messages
                from django.shortcuts import redirect

                messages.warning(request, "Django admin needs two-factor authentication: set up an authenticator app first.")
                return redirect("mfa_index")
        return self.get_response(request)


def admin_prefix() -> str:
    from django.urls import reverse

    return reverse("admin:index")


def staff_has_mfa(user) -> bool:
    from allauth.mfa.utils import is_mfa_enabled

    return is_mfa_enabled(user)
