import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Generation(models.Model):
    """One job: a model run with params, paid from a workspace wallet through one hold."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    PENDING = (Status.QUEUED, Status.RUNNING)
    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.PROTECT, related_name="generations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generations")
    model = models.ForeignKey("catalog.AIModel", on_delete=models.PROTECT, related_name="generations")
    params = models.JSONField(default=dict)
    source = models.CharField(max_length=16, default="web")  # web | api | agent
    # The API key that asked for it (usage per key, concurrency limits); no foreign key: keys
    # belong to the api app above this one.
    api_key_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    price = models.BigIntegerField()  # quoted and held, millicredits
    charged = models.BigIntegerField(null=True, blank=True)  # captured, millicredits
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    channel_name = models.CharField(max_length=80, blank=True)
    adapter = models.CharField(max_length=40, blank=True)
    upstream_model = models.CharField(max_length=200, blank=True)
    upstream_id = models.CharField(max_length=500, blank=True)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    submit_rounds = models.PositiveIntegerField(default=0)
    # When the job must next be looked at: the lease of the worker holding it, or the next poll.
    # The sweeper re-enqueues every pending job whose time has passed (lost messages, dead workers).
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deadline_at = models.DateTimeField()

    result_text = models.TextField(blank=True)
    usage = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Creator-side state. A deleted job is hidden from its workspace (history, downloads,
    # inputs); the row stays because its hold and ledger entries point at it.
    favorite = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="idempotency_key_once_per_workspace",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            # History pages walk these newest first with a keyset cursor (see selectors.py):
            # a page costs the same with 1,000 or 100,000 jobs in the workspace.
            models.Index(fields=["workspace", "-created_at", "-id"], condition=models.Q(deleted_at__isnull=True),
                         name="gen_visible_recent"),
            models.Index(fields=["workspace", "model", "-created_at"], condition=models.Q(deleted_at__isnull=True),
                         name="gen_visible_model_recent"),
            models.Index(fields=["workspace", "-created_at"], condition=models.Q(favorite=True, deleted_at__isnull=True),
                         name="gen_favorites_recent"),
            # The run-time estimate reads a model's latest successful runs.
            models.Index(fields=["model", "-finished_at"], condition=models.Q(status="succeeded"),
                         name="gen_model_succeeded_recent"),
        ]

    def __str__(self):
        return f"{self.model_id}:{self.id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING

    @property
    def prompt(self) -> str:
        """What the job was asked: the prompt, or for a chat turn its last user message."""
        asked = self.params.get("prompt") or self.params.get("input")
        if asked:
            return str(asked)
        messages = self.params.get("messages")
        for message in reversed(messages if isinstance(messages, list) else []):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):  # content parts: the text ones
                    content = " ".join(str(part.get("text", "")) for part in content
                                       if isinstance(part, dict) and part.get("type") == "text")
                return str(content or "")
        return ""


class Attempt(models.Model):
    """One call to one channel: what routing tried and how it went."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="attempts")
    channel_name = models.CharField(max_length=80)
    adapter = models.CharField(max_length=40)
    phase = models.CharField(max_length=16, default="submit")  # submit | poll
    outcome = models.CharField(max_length=16)  # ok | pending | transient | permanent
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


def output_path(instance, filename):
    return f"outputs/{instance.generation.created_at:%Y/%m}/{instance.generation_id}/{filename}"


class Output(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    mime = models.CharField(max_length=64)
    file = models.FileField(upload_to=output_path, max_length=300)
    thumbnail = models.FileField(upload_to=output_path, max_length=300, blank=True)
    web = models.FileField(upload_to=output_path, max_length=300, blank=True)  # optimized web version
    cover = models.FileField(upload_to=output_path, max_length=300, blank=True)  # poster frame or artwork
    size_bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)  # seconds (display only, never money)
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["generation", "index"], name="one_output_per_index")]


def upload_path(instance, filename):
    # The name is ours, never the client's: the workspace and the upload id locate it (the
    # input resolver reads the id back from the path) and nothing a user types reaches a path.
    return f"uploads/{instance.workspace_id}/{instance.created_at:%Y/%m}/{instance.id}/{filename}"


class Upload(models.Model):
    """A file a member gave as input (a start frame, a reference clip, a track), owned by the
    workspace, stored through Django's storage like outputs. Created by uploads.upload_create."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.PROTECT, related_name="uploads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    mime = models.CharField(max_length=64)  # detected from the content, not the client's claim
    file = models.FileField(upload_to=upload_path, max_length=300)
    thumbnail = models.FileField(upload_to=upload_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255, blank=True)  # display only
    size_bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self):
        return f"{self.kind} upload {self.id}"
class ContentPolicy(models.Model):
    """What an operator refuses before anything is held: words, patterns, and optionally a
    moderation model reached through a channel (OpenAI's moderation endpoint). A policy applies
    to one workspace, to the workspaces of one plan, or (neither set) to everyone."""

    class Unreachable(models.TextChoices):
        BLOCK = "block", "Refuse the request"
        ALLOW = "allow", "Let it through"

    name = models.CharField(max_length=80)
    enabled = models.BooleanField(default=True)
    workspace = models.ForeignKey("accounts.Workspace", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", help_text="Blank: not limited to one workspace.")
    plan = models.ForeignKey("accounts.Plan", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             help_text="Blank: not limited to one plan.")
    words = models.TextField(blank=True, help_text="One word or phrase per line; matched as whole words, any case.")
    patterns = models.TextField(blank=True, help_text="One regular expression per line (Python syntax, any case).")
    moderation_channel = models.ForeignKey("catalog.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+", help_text="An OpenAI-style channel with /moderations.")
    moderation_model = models.CharField(max_length=80, blank=True, default="omni-moderation-latest")
    when_unreachable = models.CharField(max_length=8, choices=Unreachable.choices, default=Unreachable.BLOCK)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "content policies"

    def __str__(self):
        return self.name


class ContentRefusal(models.Model):
    """One refused request, for the operator: which policy, whose, and the matched term only
    (never the prompt itself)."""

    policy = models.ForeignKey(ContentPolicy, null=True, on_delete=models.SET_NULL, related_name="refusals")
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    model_slug = models.CharField(max_length=80)
    source = models.CharField(max_length=16)
    matched = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]


def share_token() -> str:
    return secrets.token_urlsafe(24)


class ShareLink(models.Model):
    """A public, revocable link to one generation's results, made by a member who chose to share it.

    At most one live link per generation; revoking sets revoked_at (the row stays as a record)
    and sharing again makes a new token, so a revoked URL never comes back to life."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=share_token)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation"], condition=models.Q(revoked_at__isnull=True),
                                    name="one_live_share_link_per_generation")
        ]
