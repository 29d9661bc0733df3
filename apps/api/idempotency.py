"""Idempotency-Key on the API's POSTs, with reference 003's semantics.

The first request with a key (per workspace) is recorded as in flight; its answer, when it is
a success, is stored and replayed to every retry with the same key and body (the same status
and bytes, plus `Idempotent-Replayed: true`). The same key with a different body, or while the
first request is still being processed, is 409 `idempotency_conflict` (reference 003 uses 409
for both, where the IETF draft would say 422 for the first). A request that fails (validation,
credits, anything not 2xx) stores nothing, so it can be retried with the same key once fixed.
Records are kept IDEMPOTENCY_TTL_HOURS (at least 24) and then pruned by beat.

Underneath, generation_submit's own per-workspace idempotency key is the database guard that a
job is never paid for twice, whatever happens here."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from apps.core.errors import Kind

from .errors import ApiError, invalid
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 200
# A record left in flight longer than this belongs to a request that died with its process.
ABANDONED_AFTER = timedelta(minutes=10)


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise invalid(f"Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
                      param="Idempotency-Key")
    return key


def _request_hash(request) -> str:
    digest = hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _conflict(message: str) -> ApiError:
    return ApiError("idempotency_conflict", message, kind=Kind.CONFLICT, param="Idempotency-Key")


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(workspace_id: int, key: str, request_hash: str) -> IdempotencyRecord | None:
    """Record this request as the key's first; or return the earlier record (None = ours)."""
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(workspace_id=workspace_id, key=key, request_hash=request_hash)
        return None
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.filter(workspace_id=workspace_id, key=key).first()
    if record is None:  # pruned between the two statements: ours now
        return _claim(workspace_id, key, request_hash)
    if record.state == IdempotencyRecord.State.IN_FLIGHT and record.created_at < timezone.now() - ABANDONED_AFTER:
        taken = IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT,
                                                 created_at=record.created_at).update(
            request_hash=request_hash, created_at=timezone.now())
        if taken:
            return None
    return record


def idempotent(request, handler):
    """Run `handler()` (a POST operation's work, after auth) under the request's Idempotency-Key:
    replay the stored first answer, refuse a conflicting reuse, or record this one."""
    key = idempotency_key(request)
    principal = getattr(request, "auth", None)
    if not key or principal is None:
        return handler()
    request_hash = _request_hash(request)
    earlier = _claim(principal.workspace.pk, key, request_hash)
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise _conflict("This Idempotency-Key was already used with a different request body.")
        if earlier.state == IdempotencyRecord.State.IN_FLIGHT:
            raise _conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
        return _replay(earlier)
    mine = IdempotencyRecord.objects.filter(workspace_id=principal.workspace.pk, key=key)
    try:
        response = handler()
    except BaseException:
        mine.delete()
        raise
    if 200 <= response.status_code < 300 and not getattr(response, "streaming", False):
        mine.update(state=IdempotencyRecord.State.DONE, status_code=response.status_code,
                    body=response.content, content_type=response.get("Content-Type", ""))
    else:
        mine.delete()
    return response


def idempotency_prune() -> int:
    cutoff = timezone.now() - timedelta(hours=max(24, settings.IDEMPOTENCY_TTL_HOURS))
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]
