from django import forms
from django.contrib import admin, messages

from .models import Hold, LedgerEntry, Wallet
from .money import credits_to_milli, format_credits
from .services import wallet_adjust


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "amount", "held_delta", "balance_after", "held_after", "actor", "reason", "generation")
    readonly_fields = fields
    ordering = ("-id",)
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class AdjustForm(forms.ModelForm):
    """Admins add or remove credits; the reason is mandatory and the admin is recorded."""

    adjust_credits = forms.DecimalField(required=False, decimal_places=3, help_text="Credits to add (negative to remove).")
    adjust_reason = forms.CharField(required=False, max_length=255)

    class Meta:
        model = Wallet
        fields = []

    def clean(self):
        data = super().clean()
        if data.get("adjust_credits") and not (data.get("adjust_reason") or "").strip():
            self.add_error("adjust_reason", "A reason is required for every adjustment.")
        return data


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    form = AdjustForm
    list_display = ("workspace", "balance_credits", "held_credits", "updated_at")
    search_fields = ("workspace__name", "workspace__created_by__email")
    readonly_fields = ("workspace", "balance_credits", "held_credits")
    fields = ("workspace", "balance_credits", "held_credits", "adjust_credits", "adjust_reason")
    inlines = [LedgerInline]

    @admin.display(description="balance")
    def balance_credits(self, obj):
        return format_credits(obj.balance)

    @admin.display(description="held")
    def held_credits(self, obj):
        return format_credits(obj.held)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        amount = form.cleaned_data.get("adjust_credits")
        if amount:
            try:
                wallet_adjust(
                    wallet=obj, amount=credits_to_milli(amount), reason=form.cleaned_data["adjust_reason"], actor=request.user
                )
            except Exception as exc:  # shown to the admin, nothing written
                messages.error(request, str(exc))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "wallet", "kind", "amount", "held_delta", "balance_after", "actor", "reason")
    list_filter = ("kind",)
    search_fields = ("wallet__workspace__name", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = ("id", "wallet", "amount", "captured_amount", "state", "created_at", "settled_at")
    list_filter = ("state",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
