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

from apps.accounts.models import Membership, Plan, User, Workspace
from apps.accounts.services import plan_of
from apps.catalog.cache import TTLCache
from apps.core.errors import Kind
from apps.wallet.models import Wallet
from apps.wallet.services import budget_create, budget_set_limits

from .errors import ApiError
from .models import ApiKey, all_permissions

KEY_PREFIXES = {"secret": "sk_", "publishable": "pk_"}  # keys made before kinds existed start with atl_
PREFIX_LENGTH = 11  # "sk_" + 8 characters of the secret: enough to tell keys apart, useless to guess
LAST_USED_RESOLUTION = 60.0  # seconds: one write per key per minute, not per request
KEY_CACHE_SECONDS = 5.0
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="atelier"'}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class CreatedKey:
    key: ApiKey
    secret: str  # shown once; never stored


def _refuse(field: str, message: str) -> ApiError:
    return ApiError("invalid_request", message, fields={field: [message]}, param=field)


def _clean_key_settings(*, kind: str, permissions, allowed_models, credit_limit, monthly_credit_limit,
                        requests_per_minute) -> dict:
    from apps.catalog.models import AIModel

    if kind not in KEY_PREFIXES:
        raise _refuse("kind", "A key is secret or publishable.")
    permissions = list(all_permissions() if permissions is None else permissions)
    unknown = sorted(set(permissions) - set(all_permissions()))
    if unknown:
        raise _refuse("permissions", f"Unknown permissions: {', '.join(unknown)}.")
    models = sorted({str(slug).strip() for slug in allowed_models or [] if str(slug).strip()})
    missing = sorted(set(models) - set(AIModel.objects.filter(slug__in=models).values_list("slug", flat=True)))
    if missing:
        raise _refuse("allowed_models", f"Unknown models: {', '.join(missing)}.")
    if kind == "publishable":
        if not models:
            # A publishable key sits in a browser, readable by anyone: it must name what it may run.
            raise _refuse("allowed_models", "A publishable key must name the models it may use.")
        if "generate" not in permissions:
            permissions.append("generate")
    for field, value in (("credit_limit", credit_limit), ("monthly_credit_limit", monthly_credit_limit)):
        if value is not None and value <= 0:
            raise _refuse(field, "A credit limit must be positive (leave it blank for none).")
    if requests_per_minute is not None and requests_per_minute <= 0:
        raise _refuse("requests_per_minute", "A rate limit must be positive (leave it blank for the plan's).")
    return {"kind": kind, "permissions": permissions, "allowed_models": models, "credit_limit": credit_limit,
            "monthly_credit_limit": monthly_credit_limit, "requests_per_minute": requests_per_minute}


@transaction.atomic
def api_key_create(*, user, workspace, name: str, expires_in_days: int | None = None, kind: str = "secret",
                   permissions: list[str] | None = None, allowed_models: list[str] | None = None,
                   credit_limit: int | None = None, monthly_credit_limit: int | None = None,
                   requests_per_minute: int | None = None) -> CreatedKey:
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise ApiError("not_found", "No such workspace.", kind=Kind.NOT_FOUND)
    name = (name or "").strip()[:80]
    if not name:
        raise _refuse("name", "Give the key a name.")
    values = _clean_key_settings(kind=kind, permissions=permissions, allowed_models=allowed_models,
                                 credit_limit=credit_limit, monthly_credit_limit=monthly_credit_limit,
                                 requests_per_minute=requests_per_minute)
    # Counted under the user's row lock, so two concurrent creations cannot both take the last slot.
    User.objects.select_for_update().filter(pk=user.pk).first()
    most = plan_of(workspace).max_active_keys
    active = ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= most:
        raise ApiError("too_many_keys", f"Your plan allows {most} active keys; revoke one first.",
                       kind=Kind.CONFLICT)
    secret = KEY_PREFIXES[values["kind"]] + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    key = ApiKey.objects.create(user=user, workspace=workspace, name=name, prefix=secret[:PREFIX_LENGTH],
                                secret_hash=_hash(secret), expires_at=expires_at, **values)
    _sync_budget(key)
    return CreatedKey(key=key, secret=secret)


def _sync_budget(key: ApiKey) -> None:
    """The wallet Budget that enforces the key's credit limits (made when it first has one)."""
    if key.budget_id is None:
        if key.credit_limit is None and key.monthly_credit_limit is None:
            return
        key.budget = budget_create(wallet=Wallet.objects.get(workspace_id=key.workspace_id),
                                   label=f"API key {key.prefix}… ({key.name})", lifetime_limit=key.credit_limit,
                                   monthly_limit=key.monthly_credit_limit)
        ApiKey.objects.filter(pk=key.pk).update(budget=key.budget)
    else:
        budget_set_limits(budget_id=key.budget_id, lifetime_limit=key.credit_limit,
                          monthly_limit=key.monthly_credit_limit)


@transaction.atomic
def api_key_set_limits(*, key: ApiKey, credit_limit: int | None, monthly_credit_limit: int | None) -> None:
    """Change a key's credit limits; they apply to its next hold (what is held or spent counts)."""
    for field, value in (("credit_limit", credit_limit), ("monthly_credit_limit", monthly_credit_limit)):
        if value is not None and value <= 0:
            raise _refuse(field, "A credit limit must be positive (leave it blank for none).")
    key.credit_limit, key.monthly_credit_limit = credit_limit, monthly_credit_limit
    ApiKey.objects.filter(pk=key.pk).update(credit_limit=credit_limit, monthly_credit_limit=monthly_credit_limit)
    _sync_budget(key)
    forget_principals()


def api_key_set_paused(*, user, key_id: int, paused: bool) -> bool:
    """Pause or resume one of the user's active keys; False if there is no such key."""
    keys = ApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True)
    changed = keys.update(paused_at=timezone.now() if paused else None)
    forget_principals()
    return bool(changed)


def api_key_revoke(*, user, key_id: int) -> bool:
    """Revoke one of the user's keys; False if it is not theirs or already revoked."""
    revoked = ApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    forget_principals()
    return bool(revoked)


# ---- authentication -------------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """Who an API request acts as. Shared between threads: read-only."""

    key_id: int
    prefix: str
    user: User
    workspace: Workspace
    wallet: Wallet
    plan: Plan
    expires_at: datetime | None
    revoked: bool
    paused: bool
    member: bool  # the key's user still belongs to the key's workspace (and is active)
    kind: str = "secret"  # "secret" (servers) or "publishable" (browser apps)
    permissions: frozenset = frozenset(all_permissions())
    allowed_models: frozenset | None = None  # None: every model
    requests_per_minute: int | None = None  # the key's own limit, else the plan's
    credit_limit: int | None = None
    monthly_credit_limit: int | None = None
    budget_id: int | None = None  # the wallet Budget enforcing the credit limits

    @property
    def is_publishable(self) -> bool:
        return self.kind == "publishable"

    def may_use(self, model_slug: str) -> bool:
        return self.allowed_models is None or model_slug in self.allowed_models


_principals: TTLCache[Principal | None] = TTLCache(ttl=KEY_CACHE_SECONDS)
_last_written: dict[int, float] = {}
_last_written_lock = threading.Lock()


def forget_principals(**_signal_kwargs) -> None:
    _principals.clear()
    with _last_written_lock:
        _last_written.clear()


def _load(secret_hash: str) -> Principal | None:
    key = (ApiKey.objects.select_related("user", "workspace", "workspace__wallet", "workspace__plan")
           .filter(secret_hash=secret_hash).first())
    if key is None:
        return None
    member = key.user.is_active and Membership.objects.filter(user_id=key.user_id, workspace_id=key.workspace_id).exists()
    return Principal(key_id=key.pk, prefix=key.prefix, user=key.user, workspace=key.workspace,
                     wallet=key.workspace.wallet, plan=plan_of(key.workspace), expires_at=key.expires_at,
                     revoked=key.revoked_at is not None, paused=key.paused_at is not None, member=member,
                     kind=key.kind, permissions=frozenset(key.permissions or ()),
                     allowed_models=frozenset(key.allowed_models) if key.allowed_models else None,
                     requests_per_minute=key.requests_per_minute, credit_limit=key.credit_limit,
                     monthly_credit_limit=key.monthly_credit_limit, budget_id=key.budget_id)


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
    if principal.revoked:  # reference 004: unknown or revoked are one code
        raise ApiError("invalid_api_key", "This API key was revoked.", kind=Kind.UNAUTHENTICATED, headers=CHALLENGE)
    if principal.expires_at is not None and principal.expires_at <= timezone.now():
        raise ApiError("api_key_expired", "This API key has expired.", kind=Kind.FORBIDDEN)
    if principal.paused:
        raise ApiError("api_key_paused", "This API key is paused; resume it on the API keys page.",
                       kind=Kind.FORBIDDEN)
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
