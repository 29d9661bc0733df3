"""Workspace alerts: the low-balance threshold owners set, and the emails it sends."""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership
from apps.wallet.money import format_credits

from .models import LowBalanceAlert

log = logging.getLogger(__name__)
THRESHOLD_CACHE_SECONDS = 300


def _cache_key(workspace_id: int) -> str:
    return f"studio:low-balance:{workspace_id}"


def low_balance_threshold(*, workspace_id: int) -> int | None:
    """The workspace's threshold in millicredits (None = no alert); cached, because every
    page's banner check reads it."""
    cached = cache.get(_cache_key(workspace_id))
    if cached is None:
        cached = LowBalanceAlert.objects.filter(workspace_id=workspace_id).values_list("threshold", flat=True).first() or 0
        cache.set(_cache_key(workspace_id), cached, THRESHOLD_CACHE_SECONDS)
    return cached or None


def can_set_alert(*, workspace, user) -> bool:
    return Membership.objects.filter(workspace=workspace, user=user, role=Membership.Role.OWNER).exists()


def low_balance_set(*, workspace, threshold: int | None) -> None:
    """Set (or with None, remove) the threshold; a new threshold re-arms the email."""
    if threshold:
        LowBalanceAlert.objects.update_or_create(workspace=workspace, defaults={"threshold": threshold, "alerted_at": None})
    else:
        LowBalanceAlert.objects.filter(workspace=workspace).delete()
    cache.delete(_cache_key(workspace.pk))


def low_balance_alerts_send() -> int:
    """Email the owners of every workspace whose available credits fell below its threshold,
    once per drop; re-arm the alerts of workspaces that are back above. Returns emails sent.

    Two statements find the work; each alert is claimed with a conditional UPDATE, so two
    beat processes (or a retry) never email twice."""
    available = F("workspace__wallet__balance") - F("workspace__wallet__held")
    LowBalanceAlert.objects.filter(alerted_at__isnull=False).alias(available=available).filter(
        available__gte=F("threshold")).update(alerted_at=None)
    due = (LowBalanceAlert.objects.filter(alerted_at__isnull=True).alias(available=available)
           .filter(available__lt=F("threshold")).annotate(left=available).select_related("workspace"))
    sent = 0
    for alert in due:
        if not LowBalanceAlert.objects.filter(pk=alert.pk, alerted_at__isnull=True).update(alerted_at=timezone.now()):
            continue
        owners = list(Membership.objects.filter(workspace_id=alert.workspace_id, role=Membership.Role.OWNER)
                      .values_list("user__email", flat=True))
        if not owners:
            continue
        link = settings.SITE_URL.rstrip("/") + reverse("wallet:page")
        body = (f"The workspace {alert.workspace.name} has {format_credits(alert.left)} credits available, "
                f"below the {format_credits(alert.threshold)} you asked to be told about.\n\n"
                f"Top up or redeem a code: {link}\n")
        send_mail(f"Atelier: {alert.workspace.name} is low on credits", body, None, owners, fail_silently=False)
        sent += 1
        log.info("low-balance alert sent for workspace %s", alert.workspace_id)
    return sent
