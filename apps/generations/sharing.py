"""Public share links: what a member chooses to show anyone with the link, until revoked."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Generation, ShareLink


class ShareRefused(Exception):
    """A domain error: the studio maps `code` to a message (nothing here knows HTTP)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def share_link_live(*, generation: Generation) -> ShareLink | None:
    return ShareLink.objects.filter(generation=generation, revoked_at__isnull=True).first()


def share_link_create(*, generation: Generation, user) -> ShareLink:
    """The generation's live link, made now if there is none (the caller checked membership).

    Only finished results are shared: a link to a job still running, or one that failed,
    would show nothing."""
    if generation.status != Generation.Status.SUCCEEDED:
        raise ShareRefused("generation_not_succeeded", "Only a finished, successful generation can be shared.")
    existing = share_link_live(generation=generation)
    if existing:
        return existing
    try:
        with transaction.atomic():
            return ShareLink.objects.create(generation=generation, created_by=user)
    except IntegrityError:  # a second click raced this one: the partial unique index kept one link
        return share_link_live(generation=generation)


def share_link_revoke(*, generation: Generation, user) -> bool:
    """Stop the live link at once; False if there was none."""
    return bool(ShareLink.objects.filter(generation=generation, revoked_at__isnull=True)
                .update(revoked_at=timezone.now(), revoked_by=user))


def shared_generation(*, token: str) -> Generation | None:
    """The generation behind a live link, outputs prefetched; None for an unknown or revoked token."""
    return (Generation.objects.filter(share_links__token=token, share_links__revoked_at__isnull=True, deleted_at__isnull=True,
                                      status=Generation.Status.SUCCEEDED)
            .select_related("model").prefetch_related("outputs").first())
