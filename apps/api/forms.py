"""The API keys page's form: what a key may do, spend and use, parsed by Django forms."""
from __future__ import annotations

from decimal import Decimal

from django import forms

from apps.accounts.models import Workspace
from apps.wallet.money import credits_to_milli

from .models import PERMISSIONS, ApiKey

EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class CreditsField(forms.DecimalField):
    """Credits typed by a person (up to three decimals), cleaned to millicredits."""

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=Decimal("0.001"), decimal_places=3, max_digits=15, **kwargs)

    def clean(self, value):
        credits = super().clean(value)
        return None if credits is None else credits_to_milli(credits)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80, strip=True, error_messages={"required": "Give the key a name."})
    workspace = forms.ModelChoiceField(queryset=Workspace.objects.none(), label="Workspace (who pays)",
                                       empty_label=None)
    kind = forms.ChoiceField(choices=ApiKey.Kind.choices, initial=ApiKey.Kind.SECRET, required=False,
                             help_text="Publishable keys may sit in a browser app: only the simple GETs and "
                                       "model lists, only the models listed below, limited per visitor IP.")
    expires_in_days = forms.TypedChoiceField(choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False,
                                             label="Expires")
    permissions = forms.MultipleChoiceField(choices=PERMISSIONS, widget=forms.CheckboxSelectMultiple, required=False,
                                            initial=[name for name, _ in PERMISSIONS],
                                            help_text="None ticked: all of them.")
    allowed_models = forms.MultipleChoiceField(choices=(), required=False, label="Only these models",
                                               help_text="None selected: every model (secret keys).",
                                               widget=forms.SelectMultiple(attrs={"size": 8}))
    credit_limit = CreditsField(label="Credit limit (lifetime)")
    monthly_credit_limit = CreditsField(label="Credit limit per month")
    requests_per_minute = forms.IntegerField(required=False, min_value=1, max_value=100_000,
                                             label="Requests per minute", help_text="Blank: your plan's limit.")

    def clean_kind(self):
        return self.cleaned_data.get("kind") or ApiKey.Kind.SECRET

    def clean_permissions(self):
        return self.cleaned_data.get("permissions") or None  # None: every permission

    def __init__(self, *args, user, models, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = Workspace.objects.filter(memberships__user=user).order_by("kind", "name")
        self.fields["workspace"].initial = user.current_workspace_id
        self.fields["allowed_models"].choices = [(m.slug, f"{m.name} ({m.modality})") for m in models]
