"""Webhooks: where a workspace wants to hear about its jobs, and every message sent there.

An Event is one thing that happened (a job succeeded, failed or was canceled), with the id
receivers deduplicate on (Standard Webhooks' `webhook-id`). A Delivery is that event on its
way to one URL: a workspace endpoint, or the `webhook_url` given with the request. Each try is
an Attempt row: the delivery log. Retries are scheduled in `next_attempt_at` and picked up by
the beat sweeper, never by long Celery countdowns."""
from django.conf import settings
from django.db import models

from apps.catalog.crypto import decrypt, encrypt

EVENT_TYPES = ("generation.succeeded", "generation.failed", "generation.canceled")


class Endpoint(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event types to send; empty = all.")
    secret_encrypted = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # Since when every attempt failed (None after a success): what disabling is decided on.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.url

    @property
    def secret(self) -> str:
        return decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str):
        self.secret_encrypted = encrypt(value)

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class SigningSecret(models.Model):
    """The workspace's secret for the `webhook_url` given with single requests."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="webhook_secret")
    secret_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def secret(self) -> str:
        return decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str):
        self.secret_encrypted = encrypt(value)


class RequestHook(models.Model):
    """A `webhook_url` sent with one request."""

    generation = models.OneToOneField("generations.Generation", on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)


class Event(models.Model):
    id = models.CharField(primary_key=True, max_length=40, editable=False)  # msg_...: the webhook-id
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="webhook_events")
    generation = models.ForeignKey("generations.Generation", on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.type} {self.id}"


class Delivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField(max_length=2000)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next try is due (also a claimed try's lease); None once delivered or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self):
        return f"{self.event_id} -> {self.url} ({self.state})"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["number"]
