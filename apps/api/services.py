"""API keys: create (the secret is returned once), revoke, authenticate."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership

from .errors import ApiError
from .models import ApiKey

KEY_PREFIX = "atl_"
PREFIX_LENGTH = 12  # "atl_" + 8 characters of the secret: enough to tell keys apart, useless to guess
LAST_USED_RESOLUTION = timedelta(seconds=60)  # one write per key per minute, not per request
MAX_ACTIVE_KEYS = 25


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class CreatedKey:
    key: ApiKey
    secret: str  # shown once; never stored


@transaction.atomic
def api_key_create(*, user, workspace, name: str, expires_in_days: int | None = None) -> CreatedKey:
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise ApiError("not_found", "No such workspace.", status=404)
    name = (name or "").strip()[:80]
    if not name:
        raise ApiError("invalid_request", "Give the key a name.", fields={"name": ["Name is required."]})
    active = ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_KEYS:
        raise ApiError("too_many_keys", f"At most {MAX_ACTIVE_KEYS} active keys; revoke one first.", status=409)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    key = ApiKey.objects.create(user=user, workspace=workspace, name=name, prefix=secret[:PREFIX_LENGTH],
                                secret_hash=_hash(secret), expires_at=expires_at)
    return CreatedKey(key=key, secret=secret)


def api_key_revoke(*, user, key_id: int) -> bool:
    """Revoke one of the user's keys; False if it is not theirs or already revoked."""
    return bool(ApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def api_key_authenticate(*, authorization: str) -> ApiKey:
    """The active key for an Authorization header, or ApiError 401 with a code that says why."""
    challenge = {"WWW-Authenticate": 'Bearer realm="atelier"'}
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if not authorization:
        raise ApiError("missing_api_key", "Send your API key as 'Authorization: Bearer <key>'.", status=401,
                       headers=challenge)
    if scheme.lower() != "bearer" or not secret:
        raise ApiError("invalid_api_key", "The Authorization header must be 'Bearer <key>'.", status=401,
                       headers=challenge)
    key = ApiKey.objects.select_related("user", "workspace").filter(secret_hash=_hash(secret)).first()
    if key is None:
        raise ApiError("invalid_api_key", "This API key does not exist.", status=401, headers=challenge)
    if key.is_revoked:
        raise ApiError("api_key_revoked", "This API key was revoked.", status=401, headers=challenge)
    if key.is_expired:
        raise ApiError("api_key_expired", "This API key has expired.", status=401, headers=challenge)
    if not key.user.is_active or not Membership.objects.filter(user=key.user, workspace=key.workspace).exists():
        # The owner left the team (or was deactivated): the key no longer speaks for anyone.
        raise ApiError("invalid_api_key", "This API key's owner no longer has access to its workspace.", status=401,
                       headers=challenge)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
