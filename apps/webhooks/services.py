"""Webhooks: endpoints, events, signed deliveries with retries, the delivery log.

- Signing is Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) through
  the `standardwebhooks` library. `webhook-id` is the event's id, the same on every retry and
  redelivery, so receivers deduplicate on it; the timestamp and signature are per attempt.
- Events are recorded in the transaction that ends the job (the generations app's
  `generation_finished` signal), so an event exists if and only if the job really ended.
- The first try is a task enqueued after commit; every later one is scheduled in the database
  (`next_attempt_at`) and picked up by the beat sweeper. A countdown of hours on Celery would be
  redelivered by Redis after its visibility timeout: duplicates. A claim is a conditional UPDATE
  with a lease, so a try runs once even when the sweeper and a task race.
- The payload is rebuilt on every try (`event_payload`), so media URLs in it are fresh.
- Deliveries go through the safe fetcher: public addresses only, no redirects, one total
  deadline per try."""
from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from apps.accounts.models import Membership
from apps.api.presenters import generation_json
from apps.core.errors import ApplicationError, Kind
from apps.generations.models import Generation
from apps.generations.selectors import generation_for_workspace
from apps.providers.safe_http import FetchRefused, check_url, safe_post

from .models import EVENT_TYPES, Attempt, Delivery, Endpoint, Event, RequestHook, SigningSecret

log = logging.getLogger(__name__)

# Standard Webhooks' suggested schedule (Svix's): after the first try, 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h and 10 h: eight tries over 27 h 40 min.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DEADLINE = float(settings.WEBHOOK_TIMEOUT_SECONDS)
LEASE = timedelta(seconds=DEADLINE + 30)  # a claimed try that did not report back is retried after this
DISABLE_AFTER = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
MAX_ENDPOINTS = 20
MAX_URL = 2000
EVENT_OF = {Generation.Status.SUCCEEDED: "generation.succeeded", Generation.Status.FAILED: "generation.failed",
            Generation.Status.CANCELED: "generation.canceled"}
MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


class WebhookError(ApplicationError):
    pass


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _event_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def webhook_url_check(url: str, *, field: str = "webhook_url") -> str:
    """The URL if it is one we will deliver to (http(s), resolving to public addresses only)."""
    url = (url or "").strip()
    problem = None
    if not url.startswith(("https://", "http://")):
        problem = "must be an http(s) URL"
    elif len(url) > MAX_URL:
        problem = f"must be at most {MAX_URL} characters"
    else:
        try:
            check_url(url)
        except FetchRefused as exc:
            problem = f"is refused: {exc}"
    if problem:
        message = f"The webhook URL {problem}."
        raise WebhookError(message, code="invalid_webhook_url", fields={field: [message]})
    return url


def workspace_manages(*, user, workspace) -> bool:
    return Membership.objects.filter(user=user, workspace=workspace, role__in=MANAGERS).exists()


# ---- endpoints and secrets ----------------------------------------------------------------
def endpoint_create(*, workspace, user, url: str, description: str = "", events=()) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (shown once; stored encrypted to sign with)."""
    url = webhook_url_check(url, field="url")
    events = sorted(set(events))
    unknown = [name for name in events if name not in EVENT_TYPES]
    if unknown:
        raise WebhookError(f"Unknown event types: {', '.join(unknown)}.", fields={"events": ["Unknown type."]})
    if Endpoint.objects.filter(workspace=workspace).count() >= MAX_ENDPOINTS:
        raise WebhookError(f"At most {MAX_ENDPOINTS} endpoints per workspace.", code="too_many_endpoints",
                           kind=Kind.CONFLICT)
    secret = new_secret()
    endpoint = Endpoint(workspace=workspace, url=url, description=description.strip()[:200], events=events,
                        created_by=user)
    endpoint.secret = secret
    endpoint.save()
    return endpoint, secret


def endpoint_enable(*, endpoint: Endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(enabled=True, disabled_at=None, disabled_reason="",
                                                   failing_since=None)


def endpoint_disable(*, endpoint: Endpoint, reason: str) -> None:
    """Stop sending to the endpoint; its pending deliveries give up (redeliver them once fixed)."""
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_at=timezone.now(),
                                                       disabled_reason=reason[:200])
        endpoint.deliveries.filter(state=Delivery.State.PENDING).update(
            state=Delivery.State.FAILED, next_attempt_at=None, last_error=f"Endpoint disabled: {reason}"[:500])


def signing_secret_roll(*, workspace) -> str:
    """A new secret for the workspace's per-request webhook_url deliveries (the old one stops)."""
    secret = new_secret()
    row, _ = SigningSecret.objects.get_or_create(workspace=workspace, defaults={"secret_encrypted": ""})
    row.secret = secret
    row.created_at = timezone.now()
    row.save(update_fields=["secret_encrypted", "created_at"])
    return secret


# ---- recording events (signal receivers) --------------------------------------------------
def request_hook_attach(sender=None, *, generation: Generation, url: str, created: bool, **_):
    """Remember a request's webhook_url (inside its submit transaction, where refusing rolls the
    submission back). The API checked the URL's addresses before the hold; every try checks again."""
    if not SigningSecret.objects.filter(workspace_id=generation.workspace_id).exists():
        raise WebhookError("Create the workspace's webhook signing secret on the Webhooks page first: "
                           "deliveries to webhook_url are signed with it.", code="webhook_secret_missing",
                           fields={"webhook_url": ["No signing secret in this workspace yet."]})
    if created:
        RequestHook.objects.create(generation=generation, url=url)


def events_record(sender=None, *, generation: Generation, status: str, request_hook: bool = True,
                  **_) -> Event | None:
    """The event for a generation that just ended, and a delivery per interested URL.

    Runs inside the job's final transaction: one query when nothing listens (no endpoint, and
    no webhook_url unless the job came from the API and could carry one)."""
    event_type = EVENT_OF[status]
    targets = [(endpoint, endpoint.url) for endpoint in Endpoint.objects.filter(
        workspace_id=generation.workspace_id, enabled=True) if endpoint.wants(event_type)]
    if request_hook and generation.source == "api":
        hook = RequestHook.objects.filter(generation_id=generation.pk).values_list("url", flat=True).first()
        if hook:
            targets.append((None, hook))
    if not targets:
        return None
    now = timezone.now()
    event = Event.objects.create(id=_event_id(), workspace_id=generation.workspace_id, generation_id=generation.pk,
                                 type=event_type, created_at=now)
    deliveries = Delivery.objects.bulk_create([Delivery(event=event, endpoint=endpoint, url=url, next_attempt_at=now)
                                               for endpoint, url in targets])
    _enqueue_on_commit([delivery.pk for delivery in deliveries])
    return event


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    from .tasks import deliver_webhook

    transaction.on_commit(lambda: [deliver_webhook.delay(pk) for pk in delivery_ids])


# ---- delivering ---------------------------------------------------------------------------
def event_payload(event: Event) -> dict:
    """The message body: the generation as GET /v1/generations/{id} shows it, built afresh on
    every try. The one place that turns a job into a webhook payload (media URLs included)."""
    generation = generation_for_workspace(workspace_id=event.workspace_id, generation_id=event.generation_id)
    return {"type": event.type, "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
            "data": generation_json(generation)}


def _secret_for(delivery: Delivery) -> str | None:
    if delivery.endpoint is not None:
        return delivery.endpoint.secret
    row = SigningSecret.objects.filter(workspace_id=delivery.event.workspace_id).first()
    return row.secret if row else None


def signed_headers(*, secret: str, event_id: str, body: str, when) -> dict:
    return {"content-type": "application/json", "user-agent": "Atelier-Webhooks/1", "webhook-id": event_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id=event_id, timestamp=when, data=body)}


def delivery_attempt(*, delivery_id: int) -> Attempt | None:
    """One try of a due delivery; None when it is not due or another worker holds it."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + LEASE)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    if delivery.endpoint is not None and not delivery.endpoint.enabled:
        Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.FAILED, next_attempt_at=None,
                                                       last_error="Endpoint disabled.")
        return None
    number = delivery.attempts + 1
    started, clock = timezone.now(), time.monotonic()
    status, excerpt, error = None, b"", ""
    secret = _secret_for(delivery)
    if secret is None:
        error = "No signing secret in the workspace (it was removed)."
    else:
        body = json.dumps(event_payload(delivery.event), separators=(",", ":"), ensure_ascii=False)
        headers = signed_headers(secret=secret, event_id=delivery.event_id, body=body, when=started)
        try:
            status, excerpt = safe_post(delivery.url, content=body.encode(), headers=headers, deadline=DEADLINE)
        except FetchRefused as exc:
            error = f"Not sent: {exc}"
        except (httpx.HTTPError, OSError) as exc:
            error = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
        if status is not None and not 200 <= status < 300:
            error = f"The receiver answered HTTP {status}."
    attempt = Attempt.objects.create(delivery=delivery, number=number, started_at=started,
                                     duration_ms=int((time.monotonic() - clock) * 1000), status_code=status,
                                     error=error[:500], response_excerpt=excerpt.decode(errors="replace")[:500])
    _settle(delivery, number, status, error)
    return attempt


def _settle(delivery: Delivery, number: int, status: int | None, error: str) -> None:
    now = timezone.now()
    pending = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING)
    if not error:
        pending.update(state=Delivery.State.SUCCEEDED, attempts=number, next_attempt_at=None, delivered_at=now,
                       last_status_code=status, last_error="")
        if delivery.endpoint_id:
            Endpoint.objects.filter(pk=delivery.endpoint_id).exclude(failing_since=None).update(failing_since=None)
        return
    if number >= MAX_ATTEMPTS:
        pending.update(state=Delivery.State.FAILED, attempts=number, next_attempt_at=None, last_status_code=status,
                       last_error=error[:500])
    else:
        pending.update(attempts=number, next_attempt_at=now + timedelta(seconds=RETRY_DELAYS[number - 1]),
                       last_status_code=status, last_error=error[:500])
    if delivery.endpoint_id:
        _endpoint_failed(delivery.endpoint_id, now)


def _endpoint_failed(endpoint_id: int, now) -> None:
    """Note the failure; an endpoint that has failed every try for DISABLE_AFTER is disabled."""
    Endpoint.objects.filter(pk=endpoint_id, failing_since=None).update(failing_since=now)
    endpoint = Endpoint.objects.filter(pk=endpoint_id, enabled=True, failing_since__lte=now - DISABLE_AFTER).first()
    if endpoint is None:
        return
    days = DISABLE_AFTER.total_seconds() / 86400
    endpoint_disable(endpoint=endpoint, reason=f"Every delivery failed for {days:g} days.")
    _tell_owner(endpoint)


def _tell_owner(endpoint: Endpoint) -> None:
    people = [endpoint.created_by] if endpoint.created_by and endpoint.created_by.is_active else [
        m.user for m in Membership.objects.filter(workspace_id=endpoint.workspace_id, role=Membership.Role.OWNER)
        .select_related("user")]
    emails = [person.email for person in people if person and person.email]
    if not emails:
        return
    site = settings.SITE_URL.rstrip("/")
    send_mail(
        subject="Atelier: a webhook endpoint was disabled",
        message=(f"Every delivery to {endpoint.url} has failed for "
                 f"{DISABLE_AFTER.total_seconds() / 86400:g} days, so Atelier stopped sending to it.\n\n"
                 f"Fix the receiver, then enable the endpoint again and redeliver what it missed:\n"
                 f"{site}/webhooks/{endpoint.pk}/\n"),
        from_email=None, recipient_list=emails, fail_silently=True,
    )


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send the delivery's event to its URL again now, as a new delivery (the log keeps both)."""
    if delivery.endpoint is not None and not delivery.endpoint.enabled:
        raise WebhookError("Enable the endpoint before redelivering to it.", code="endpoint_disabled",
                           kind=Kind.CONFLICT)
    again = Delivery.objects.create(event_id=delivery.event_id, endpoint=delivery.endpoint, url=delivery.url,
                                    next_attempt_at=timezone.now())
    _enqueue_on_commit([again.pk])
    return again


def deliveries_sweep(*, limit: int = 500) -> int:
    """Enqueue every pending delivery whose time has come (retries, lost messages, expired leases)."""
    from .tasks import deliver_webhook

    due = list(Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=timezone.now())
               .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    for pk in due:
        deliver_webhook.delay(pk)
    return len(due)
