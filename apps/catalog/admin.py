from django import forms
from django.contrib import admin

from .models import AIModel, Channel, ModelRoute
from .pricing import quote
from .schema import validate_params
from .services import catalog_sample_params


class ModelRouteInline(admin.TabularInline):
    model = ModelRoute
    extra = 0


class AIModelForm(forms.ModelForm):
    class Meta:
        model = AIModel
        fields = "__all__"

    def clean_price_override(self):
        """A broken override would make every quote of the model fail: refuse it here instead."""
        rule = self.cleaned_data.get("price_override")
        if rule in (None, {}, ""):
            return None
        schema = self.cleaned_data.get("schema") or (self.instance.schema if self.instance.pk else {})
        try:
            price = quote(rule, validate_params(schema, catalog_sample_params(schema)))
        except Exception as exc:  # any error in the rule is the admin's to fix
            raise forms.ValidationError(f"This pricing rule cannot price the model: {exc!r}") from None
        if price <= 0:
            raise forms.ValidationError("This pricing rule gives a price of zero.")
        return rule


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    form = AIModelForm
    list_display = ("name", "slug", "vendor", "modality", "is_local", "enabled")
    list_filter = ("modality", "vendor", "enabled", "is_local")
    list_editable = ("enabled",)
    search_fields = ("name", "slug", "vendor", "description")
    readonly_fields = ("synced_at",)
    inlines = [ModelRouteInline]


class ChannelForm(forms.ModelForm):
    api_key = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current key.",
    )

    class Meta:
        model = Channel
        fields = ["name", "adapter", "base_url", "api_key", "priority", "weight", "enabled", "max_concurrent", "options"]

    def save(self, commit=True):
        channel = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            channel.api_key = self.cleaned_data["api_key"]
        if commit:
            channel.save()
        return channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("name", "adapter", "base_url", "priority", "weight", "enabled", "has_key")
    list_filter = ("adapter", "enabled")

    @admin.display(boolean=True, description="key set")
    def has_key(self, obj):
        return bool(obj.api_key_encrypted)
