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
