from django.db import models

from .crypto import decrypt, encrypt


class Modality(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    MUSIC = "music", "Music"
    SPEECH = "speech", "Speech"
    TEXT = "text", "Text"


class AIModelQuerySet(models.QuerySet):
    def offered(self):
        """What users can pick: enabled by the admin and not retired by its provider."""
        return self.filter(enabled=True, retired_at__isnull=True)


class AIModel(models.Model):
    """A model users can pick. Loaded from apps/catalog/data by sync_catalog.

    `enabled` and `price_override` belong to the admin: sync_catalog never overwrites them.
    A model its provider shut down keeps its row (generations point at it) with `retired_at`
    set: it is neither offered nor routed. `checked_at` is when the catalog entry was last
    compared with the provider's model list, docs and prices."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=60)
    modality = models.CharField(max_length=16, choices=Modality.choices, db_index=True)
    description = models.TextField(blank=True)
    capabilities = models.JSONField(default=list, blank=True)
    schema = models.JSONField(default=dict)
    pricing = models.JSONField(default=dict)
    limits = models.JSONField(default=dict, blank=True)  # e.g. {"deadline_seconds": 600}
    aliases = models.JSONField(default=list, blank=True)
    is_local = models.BooleanField(default=False, help_text="Served by the built-in sandbox engine.")
    sort_order = models.IntegerField(default=100)
    checked_at = models.DateField(null=True, blank=True, help_text="Last compared with the provider's docs.")
    checked_note = models.TextField(blank=True, help_text="What that check could not confirm.")
    retired_at = models.DateField(null=True, blank=True, help_text="Shut down by its provider: kept for history.")
    # Admin-owned fields.
    enabled = models.BooleanField(default=True)
    price_override = models.JSONField(null=True, blank=True, help_text="A pricing rule that replaces the catalog's.")
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = AIModelQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = "model"

    def __str__(self):
        return self.name

    @property
    def effective_pricing(self) -> dict:
        return self.price_override or self.pricing

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def deadline_seconds(self) -> int:
        return int(self.limits.get("deadline_seconds", 600))


class Channel(models.Model):
    """An upstream account: which adapter speaks to it, where, with which key."""

    name = models.CharField(max_length=80, unique=True)
    adapter = models.CharField(max_length=40, help_text="Adapter id, e.g. sandbox, openai, replicate, fal.")
    base_url = models.URLField(blank=True)
    api_key_encrypted = models.TextField(blank=True, editable=False)
    priority = models.IntegerField(default=0, help_text="Higher is tried first.")
    weight = models.PositiveIntegerField(default=1, help_text="Share of traffic among channels of equal priority.")
    enabled = models.BooleanField(default=True)
    max_concurrent = models.PositiveIntegerField(default=0, help_text="0 = unlimited.")
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "name"]

    def __str__(self):
        return self.name

    @property
    def api_key(self) -> str:
        return decrypt(self.api_key_encrypted)

    @api_key.setter
    def api_key(self, value: str):
        self.api_key_encrypted = encrypt(value)


class ModelRoute(models.Model):
    """An adapter that can serve a model, under that upstream's own model name.

    Every enabled Channel using the adapter can then serve the model; a channel can still
    rename it through options["model_map"] (e.g. a vLLM box that serves it under another id)."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="routes")
    adapter = models.CharField(max_length=40)
    upstream_model = models.CharField(max_length=200)
    # Parameters this upstream cannot take (e.g. seed) and combinations it refuses.
    unsupported = models.JSONField(default=list, blank=True)
    rules = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "adapter"], name="one_route_per_model_adapter")]

    def __str__(self):
        return f"{self.model.slug} via {self.adapter} ({self.upstream_model})"
