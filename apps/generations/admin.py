from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.wallet.errors import WalletError
from apps.wallet.models import Hold
from apps.wallet.money import credits_to_milli, format_credits
from apps.wallet.refunds import hold_refund, hold_refundable

from .errors import SubmitError
from .models import Attempt, ContentPolicy, ContentRefusal, Generation, Output, ShareLink, Upload
from .services import generation_submit


class OutputInline(admin.TabularInline):
    model = Output
    extra = 0
    can_delete = False
    readonly_fields = ("index", "kind", "mime", "file", "thumbnail", "web", "cover", "width", "height", "duration", "size_bytes")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "channel_name", "adapter", "phase", "outcome", "error_code", "error_message", "latency_ms")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class RefundForm(forms.Form):
    credits = forms.DecimalField(min_value=0.001, decimal_places=3, max_digits=15, help_text="Credits to give back.")
    reason = forms.CharField(max_length=255, help_text="Required: shown in the workspace's ledger.")


@admin.action(description="Retry as new generations (same user, workspace and settings; a new hold)")
def retry_as_new(modeladmin, request, queryset):
    started = 0
    for generation in queryset.select_related("model", "user", "workspace"):
        try:
            generation_submit(user=generation.user, workspace=generation.workspace, model=generation.model,
                              raw_params=dict(generation.params), source="admin")
            started += 1
        except SubmitError as exc:
            messages.error(request, f"{generation.pk}: {exc.message}")
    if started:
        messages.success(request, f"{started} new generation{'s' if started != 1 else ''} queued.")


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ("id", "model", "user", "workspace", "status", "price_credits", "charged_credits", "channel_name",
                    "created_at", "deleted_at")
    list_filter = ("status", "model__modality", "source", "channel_name")
    search_fields = ("id", "user__email", "model__slug", "upstream_id", "error_code")
    date_hierarchy = "created_at"
    inlines = [OutputInline, AttemptInline]
    readonly_fields = ["refund_link"] + [f.name for f in Generation._meta.fields]
    list_select_related = ("model", "user", "workspace")
    actions = [retry_as_new]

    @admin.display(description="price (credits)", ordering="price")
    def price_credits(self, obj):
        return format_credits(obj.price)

    @admin.display(description="charged (credits)", ordering="charged")
    def charged_credits(self, obj):
        return "—" if obj.charged is None else format_credits(obj.charged)

    @admin.display(description="refund")
    def refund_link(self, obj):
        hold = Hold.objects.filter(generation=obj).first()
        left = hold_refundable(hold=hold) if hold else 0
        if not left:
            return "Nothing to refund (only charged generations, up to what was charged)."
        url = reverse("admin:generations_generation_refund", args=[obj.pk])
        return format_html('<a class="button" href="{}">Refund up to {} credits…</a>', url, format_credits(left))

    def get_urls(self):
        return [path("<uuid:pk>/refund/", self.admin_site.admin_view(self.refund_view),
                     name="generations_generation_refund")] + super().get_urls()

    def refund_view(self, request, pk):
        """Give credits of a finished generation back: a `refund` ledger entry with a reason."""
        generation = get_object_or_404(Generation.objects.select_related("model", "workspace"), pk=pk)
        hold = get_object_or_404(Hold, generation=generation)
        left = hold_refundable(hold=hold)
        form = RefundForm(request.POST or None, initial={"credits": format_credits(left).replace(",", "")})
        if request.method == "POST" and form.is_valid():
            try:
                hold_refund(hold=hold, amount=credits_to_milli(form.cleaned_data["credits"]),
                            reason=form.cleaned_data["reason"], actor=request.user)
            except (WalletError, ValueError) as exc:
                form.add_error("credits", getattr(exc, "message", str(exc)))
            else:
                messages.success(request, f"Refunded {form.cleaned_data['credits']} credits to {generation.workspace}.")
                return redirect("admin:generations_generation_change", generation.pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "generation": generation,
                   "form": form, "refundable": format_credits(left), "charged": format_credits(generation.charged or 0),
                   "title": f"Refund {generation.model.name} generation"}
        return render(request, "admin/generations/generation/refund.html", context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("id", "workspace", "user", "kind", "mime", "size_bytes", "original_name", "created_at")
    list_filter = ("kind",)
    search_fields = ("id", "user__email", "workspace__name", "original_name")
    readonly_fields = [f.name for f in Upload._meta.fields]
    list_select_related = ("workspace", "user")

    def has_add_permission(self, request):
        return False


@admin.register(ContentPolicy)
class ContentPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "enabled", "workspace", "plan", "moderation_channel", "when_unreachable", "updated_at")
    list_filter = ("enabled", "when_unreachable")
    raw_id_fields = ("workspace",)


@admin.register(ContentRefusal)
class ContentRefusalAdmin(admin.ModelAdmin):
    list_display = ("created_at", "policy", "workspace", "user", "model_slug", "source", "matched")
    list_filter = ("policy", "source")
    readonly_fields = [f.name for f in ContentRefusal._meta.fields]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    """Public share links: staff can see who shared what and stop a link."""

    list_display = ("generation", "created_by", "created_at", "revoked_at", "revoked_by")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("generation__id", "created_by__email")
    readonly_fields = ("generation", "token", "created_by", "created_at", "revoked_at", "revoked_by")
    actions = ["revoke"]

    @admin.action(description="Revoke the selected share links")
    def revoke(self, request, queryset):
        stopped = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=request.user)
        self.message_user(request, f"{stopped} link(s) revoked.")

    def has_add_permission(self, request):
        return False
