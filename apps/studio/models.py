import uuid

from django.conf import settings
from django.db import models


def showcase_path(instance, filename):
    return f"showcase/{instance.model.slug}/{filename}"


class ModelShowcase(models.Model):
    """An operator-chosen sample image for a model's gallery card (Django admin). Without one,
    the card shows the workspace's latest output of the model, else a modality illustration."""

    model = models.OneToOneField("catalog.AIModel", on_delete=models.CASCADE, related_name="showcase")
    image = models.ImageField(upload_to=showcase_path, max_length=300)
    caption = models.CharField(max_length=200, blank=True, help_text="Alt text: what the sample shows.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Sample for {self.model}"


class LowBalanceAlert(models.Model):
    """A workspace owner's threshold: below it the studio shows a banner, and the owners get
    one email per drop (re-armed when the available credits are back above it)."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="low_balance_alert")
    threshold = models.BigIntegerField(help_text="Millicredits of available credits.")
    alerted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(threshold__gt=0), name="low_balance_threshold_positive")]

    def __str__(self):
        return f"Low-balance alert of {self.workspace}"


class ChatThread(models.Model):
    """A conversation with a text model in the studio. It belongs to the workspace (every member
    sees it, like the workspace's jobs) and remembers who started it. Each turn is paid for as
    its own Generation, so the thread itself holds no money."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="chat_threads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chat_threads")
    model = models.ForeignKey("catalog.AIModel", on_delete=models.PROTECT, related_name="chat_threads")
    title = models.CharField(max_length=120)
    system = models.TextField(blank=True, help_text="The system prompt sent before every turn (optional).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["workspace", "-updated_at"], name="chat_thread_recent"),
                   models.Index(fields=["workspace", "model", "-updated_at"], name="chat_thread_model_recent")]

    def __str__(self):
        return self.title


class ThreadTurn(models.Model):
    """One question of a thread and its answer. The answer, its usage and its charge live on the
    Generation (history, usage and wallet_audit see it like any job); a turn refused before a
    Generation existed (not enough credits, content check) keeps only the sentence saying why."""

    thread = models.ForeignKey(ChatThread, on_delete=models.CASCADE, related_name="turns")
    generation = models.OneToOneField("generations.Generation", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="thread_turn")
    prompt = models.TextField()
    error = models.TextField(blank=True, help_text="Why the turn has no (full) answer, in words for people.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Turn of {self.thread}"
