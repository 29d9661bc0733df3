from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse

from apps.catalog.money import credits_to_milli, format_credits

from .models import Hold, LedgerEntry, MemberCap, MemberSpend, Redemption, RedemptionBatch, Wallet
from .services import redemption_batch_create, redemption_batch_csv, wallet_adjust, wallet_grant


def _credits_column(field: str, label: str):
    """A read-only admin column showing a millicredit field in credits, like every other page."""
    @admin.display(description=f"{label} (credits)", ordering=field)
    def column(self, obj):
        value = getattr(obj, field)
        return "—" if value is None else format_credits(value)

    column.__name__ = f"{field}_credits"
    return column


class CreditColumns:
    amount_credits = _credits_column("amount", "amount")
    held_delta_credits = _credits_column("held_delta", "held change")
    balance_after_credits = _credits_column("balance_after", "balance after")
    held_after_credits = _credits_column("held_after", "held after")
    captured_amount_credits = _credits_column("captured_amount", "captured")


class LedgerInline(CreditColumns, admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "amount_credits", "held_delta_credits", "balance_after_credits", "held_after_credits",
              "actor", "reason", "generation")
    readonly_fields = fields
    ordering = ("-id",)
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class AdjustForm(forms.ModelForm):
    """Admins add or remove credits; the reason is mandatory and the admin is recorded."""

    adjust_kind = forms.ChoiceField(
        choices=[("grant", "Grant (top-up, positive)"), ("adjustment", "Adjustment (correction, either sign)")],
        initial="grant", required=False,
    )
    adjust_credits = forms.DecimalField(required=False, decimal_places=3, help_text="Credits to add (negative to remove).")
    adjust_reason = forms.CharField(required=False, max_length=255)

    class Meta:
        model = Wallet
        fields = []

    def clean(self):
        data = super().clean()
        if data.get("adjust_credits") and not (data.get("adjust_reason") or "").strip():
            self.add_error("adjust_reason", "A reason is required for every adjustment.")
        if data.get("adjust_kind") == "grant" and data.get("adjust_credits") is not None and data["adjust_credits"] < 0:
            self.add_error("adjust_credits", "A grant must be positive; use an adjustment to remove credits.")
        return data


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    form = AdjustForm
    list_display = ("workspace", "owner_email", "balance_credits", "held_credits", "updated_at")
    list_select_related = ("workspace__created_by",)
    search_fields = ("workspace__name", "workspace__created_by__email")
    readonly_fields = ("workspace", "owner_email", "balance_credits", "held_credits")
    fields = ("workspace", "owner_email", "balance_credits", "held_credits", "adjust_kind", "adjust_credits", "adjust_reason")
    inlines = [LedgerInline]

    @admin.display(description="owner", ordering="workspace__created_by__email")
    def owner_email(self, obj):
        return obj.workspace.created_by.email

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
            reason = form.cleaned_data["adjust_reason"]
            try:
                if form.cleaned_data.get("adjust_kind") == "grant":
                    wallet_grant(wallet=obj, amount=credits_to_milli(amount), reason=reason, actor=request.user)
                else:
                    wallet_adjust(wallet=obj, amount=credits_to_milli(amount), reason=reason, actor=request.user)
            except Exception as exc:  # shown to the admin, nothing written
                messages.error(request, str(exc))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(CreditColumns, admin.ModelAdmin):
    list_display = ("created_at", "wallet", "kind", "amount_credits", "held_delta_credits", "balance_after_credits",
                    "actor", "reason")
    list_filter = ("kind",)
    list_select_related = ("wallet__workspace", "actor")
    search_fields = ("wallet__workspace__name", "wallet__workspace__created_by__email", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Hold)
class HoldAdmin(CreditColumns, admin.ModelAdmin):
    list_display = ("id", "wallet", "amount_credits", "captured_amount_credits", "state", "created_at", "settled_at")
    list_filter = ("state",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MemberSpend)
class MemberSpendAdmin(CreditColumns, admin.ModelAdmin):
    list_display = ("wallet", "member", "month", "amount_credits")
    list_filter = ("month",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MemberCap)
class MemberCapAdmin(admin.ModelAdmin):
    """Read-only here: caps are set on the team page by the team's owners and admins."""

    list_display = ("wallet", "member", "monthly_cap", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BatchCreateForm(forms.ModelForm):
    value_credits = forms.DecimalField(decimal_places=3, min_value=0.001, help_text="Credits each redemption adds.")
    count = forms.IntegerField(min_value=1, max_value=10_000, initial=10, help_text="How many codes to make.")

    class Meta:
        model = RedemptionBatch
        fields = ["name", "max_redemptions", "expires_at"]
        help_texts = {"max_redemptions": "How many different users can redeem each code (once each)."}


def _csv_response(filename: str, body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.action(description="Export codes as CSV")
def export_codes(modeladmin, request, queryset):
    parts = [redemption_batch_csv(batch=batch) for batch in queryset.order_by("pk")]
    # One header for the whole file.
    body = parts[0] + "".join(part.split("\n", 1)[1] for part in parts[1:]) if parts else ""
    return _csv_response("atelier-codes.csv", body)


@admin.register(RedemptionBatch)
class RedemptionBatchAdmin(admin.ModelAdmin):
    list_display = ("name", "value_display", "code_count", "max_redemptions", "expires_at", "created_by", "created_at")
    readonly_fields = ("name", "value_display", "max_redemptions", "expires_at", "created_by", "created_at", "code_count")
    actions = [export_codes]

    @admin.display(description="credits per redemption")
    def value_display(self, obj):
        return format_credits(obj.value)

    @admin.display(description="codes")
    def code_count(self, obj):
        return obj.codes.count()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = BatchCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "value_credits", "count", "max_redemptions", "expires_at")
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        batch = redemption_batch_create(
            name=data["name"], value=credits_to_milli(data["value_credits"]), count=data["count"],
            max_redemptions=data["max_redemptions"], expires_at=data.get("expires_at"), actor=request.user,
        )
        # The admin's "added" message and redirect need the saved object.
        obj.pk = batch.pk
        obj.created_by = request.user
        messages.info(request, f"{data['count']} codes created; select the batch and use 'Export codes as CSV'.")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "code", "user", "wallet")
    search_fields = ("code__code", "user__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
