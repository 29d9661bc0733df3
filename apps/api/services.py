"""API keys: create (the secret is returned once), revoke, authenticate.

Authentication is on every API request, so it costs no query in the common case: the key's
principal (key, user, workspace, wallet) is kept in a per-process cache for a few seconds,
keyed by the secret's sha256. Saving or deleting a key, a membership or a user clears the
cache of the process that made the change; other processes notice within KEY_CACHE_SECONDS
(the same bound as the catalog cache's). `last_used_at` is written at most once a minute per
key and process."""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership, User, Workspace
from apps.catalog.cache import TTLCache
from apps.core.errors import Kind
from apps.wallet.models import Wallet

from .errors import ApiError
from .models import ApiKey

KEY_PREFIX = "atl_"
PREFIX_LENGTH = 12  # "atl_" + 8 characters of the secret: enough to tell keys apart, useless to guess
LAST_USED_RESOLUTION = 60.0  # seconds: one write per key per minute, not per request
MAX_ACTIVE_KEYS = 25
KEY_CACHE_SECONDS = 5.0
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="atelier"'}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class CreatedKey:
    key: ApiKey
    secret: str  # shown once; never stored


@transaction.atomic
def api_key_create(*, user, workspace, name: str, expires_in_days: int | None = None) -> CreatedKey:
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise ApiError("not_found", "No such workspace.", kind=Kind.NOT_FOUND)
    name = (name or "").strip()[:80]
    if not name:
        raise ApiError("invalid_request", "Give the key a name.", fields={"name": ["Name is required."]})
    active = ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_KEYS:
        raise ApiError("too_many_keys", f"At most {MAX_ACTIVE_KEYS} active keys; revoke one first.",
                       kind=Kind.CONFLICT)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    key = ApiKey.objects.create(user=user, workspace=workspace, name=name, prefix=secret[:PREFIX_LENGTH],
                                secret_hash=_hash(secret), expires_at=expires_at)
    return CreatedKey(key=key, secret=secret)


def api_key_revoke(*, user, key_id: int) -> bool:
    """Revoke one of the user's keys; False if it is not theirs or already revoked."""
    revoked = ApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    forget_principals()
    return bool(revoked)


# ---- authentication -------------------------------------------------------------------------
PERMISSIONS = ("generate", "account:balance", "account:usage", "account:profile", "models")


@dataclass(frozen=True)
class Principal:
    """Who an API request acts as. Shared between threads: read-only."""

    key_id: int
    prefix: str
    user: User
    workspace: Workspace
    wallet: Wallet
    expires_at: datetime | None
    revoked: bool
    member: bool  # the key's user still belongs to the key's workspace (and is active)
    kind: str = "secret"  # "secret" (servers) or "publishable" (browser apps)
    permissions: frozenset = frozenset(PERMISSIONS)
    allowed_models: frozenset | None = None  # None: every model

    def may_use(self, model_slug: str) -> bool:
        return self.allowed_models is None or model_slug in self.allowed_models


_principals: TTLCache[Principal | None] = TTLCache(ttl=KEY_CACHE_SECONDS)
_last_written: dict[int, float] = {}
_last_written_lock = threading.Lock()


def forget_principals(**_signal_kwargs) -> None:
    _principals.clear()


def _load(secret_hash: str) -> Principal | None:
    key = (ApiKey.objects.select_related("user", "workspace", "workspace__wallet")
           .filter(secret_hash=secret_hash).first())
    if key is None:
        return None
    member = key.user.is_active and Membership.objects.filter(user_id=key.user_id, workspace_id=key.workspace_id).exists()
    return Principal(key_id=key.pk, prefix=key.prefix, user=key.user, workspace=key.workspace,
                     wallet=key.workspace.wallet, expires_at=key.expires_at, revoked=key.revoked_at is not None,
                     member=member)


def _touch(key_id: int) -> None:
    now = time.monotonic()
    with _last_written_lock:
        if now - _last_written.get(key_id, -LAST_USED_RESOLUTION) < LAST_USED_RESOLUTION:
            return
        _last_written[key_id] = now
    ApiKey.objects.filter(pk=key_id).update(last_used_at=timezone.now())


def api_key_principal(*, secret: str) -> Principal:
    """The principal for a secret, or ApiError 401 with a code that says why."""
    if not secret:
        raise ApiError("missing_api_key", "Send your API key as 'Authorization: Bearer <key>'.",
                       kind=Kind.UNAUTHENTICATED, headers=CHALLENGE)
    digest = _hash(secret)
    principal = _principals.get(digest, lambda: _load(digest))
    if principal is None:
        raise ApiError("invalid_api_key", "This API key does not exist.", kind=Kind.UNAUTHENTICATED, headers=CHALLENGE)
    if principal.revoked:
        raise ApiError("api_key_revoked", "This API key was revoked.", kind=Kind.UNAUTHENTICATED, headers=CHALLENGE)
    if principal.expires_at is not None and principal.expires_at <= timezone.now():
        raise ApiError("api_key_expired", "This API key has expired.", kind=Kind.UNAUTHENTICATED, headers=CHALLENGE)
    if not principal.member:
        # The owner left the team (or was deactivated): the key no longer speaks for anyone.
        raise ApiError("invalid_api_key", "This API key's owner no longer has access to its workspace.",
                       kind=Kind.UNAUTHENTICATED, headers=CHALLENGE)
    _touch(principal.key_id)
    return principal


def api_key_authenticate(*, authorization: str) -> Principal:
    """The principal for an Authorization header value ('Bearer <key>')."""
    scheme, _, secret = (authorization or "").partition(" ")
    if authorization and (scheme.lower() != "bearer" or not secret.strip()):
        raise ApiError("invalid_api_key", "The Authorization header must be 'Bearer <key>'.",
                       kind=Kind.UNAUTHENTICATED, headers=CHALLENGE)
    return api_key_principal(secret=secret.strip())
