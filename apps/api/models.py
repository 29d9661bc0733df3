from django.conf import settings
from django.db import models
from django.utils import timezone


PERMISSIONS = [
    ("generate", "Generate (chat, images, video, audio, jobs)"),
    ("models", "List models"),
    ("account:balance", "Read the balance"),
    ("account:usage", "Read usage"),
    ("account:profile", "Read the profile"),
]


def all_permissions() -> list[str]:
    return [name for name, _ in PERMISSIONS]


class ApiKey(models.Model):
    """A secret for the public API. Belongs to a user, acts in one workspace (whose wallet pays).

    Only the sha256 of the secret is stored; the secret is shown once, at creation. `prefix`
    (the first characters of the secret) lets people tell keys apart in lists and logs.
    Secret keys (sk_, and the older atl_) are for servers; publishable keys (pk_) may sit in a
    browser app: they only read listings and make the simple GETs, for the models their
    allowlist names, rate-limited per client IP (reference 002)."""

    class Kind(models.TextChoices):
        SECRET = "secret", "Secret (server)"
        PUBLISHABLE = "publishable", "Publishable (browser)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, db_index=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SECRET)
    permissions = models.JSONField(default=all_permissions, blank=True)
    allowed_models = models.JSONField(default=list, blank=True, help_text="Model slugs; empty: every model.")
    paused_at = models.DateTimeField(null=True, blank=True)
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True,
                                                      help_text="Blank: the workspace plan's limit.")
    # Credit limits in millicredits, taken with each hold through the wallet Budget they configure
    # (api_key_set_limits keeps the two in step).
    credit_limit = models.BigIntegerField(null=True, blank=True, help_text="Lifetime, millicredits.")
    monthly_credit_limit = models.BigIntegerField(null=True, blank=True, help_text="Per calendar month (UTC).")
    budget = models.OneToOneField("wallet.Budget", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="api_key", editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired


class RateLimitHit(models.Model):
    """One admitted request in a sliding window, for the embedded default (no Redis): every
    process sees the same database, so limits hold across web processes. See limits.py."""

    key = models.CharField(max_length=200)
    at = models.FloatField()  # epoch seconds

    class Meta:
        indexes = [models.Index(fields=["key", "at"])]


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key, replayed to its retries
    (reference 003). Scoped per workspace; kept IDEMPOTENCY_TTL_HOURS, then pruned by beat."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        DONE = "done", "Done"

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="idempotency_once_per_workspace")]
