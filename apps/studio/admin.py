from django.contrib import admin

from apps.wallet.money import format_credits

from .models import ChatThread, LowBalanceAlert, ModelShowcase, ThreadTurn


@admin.register(ModelShowcase)
class ModelShowcaseAdmin(admin.ModelAdmin):
    list_display = ("model", "caption", "updated_at")
    search_fields = ("model__name", "model__slug")
    autocomplete_fields = ("model",)


@admin.register(LowBalanceAlert)
class LowBalanceAlertAdmin(admin.ModelAdmin):
    list_display = ("workspace", "threshold_credits", "alerted_at", "updated_at")
    raw_id_fields = ("workspace",)

    @admin.display(description="threshold (credits)", ordering="threshold")
    def threshold_credits(self, obj):
        return format_credits(obj.threshold)


class ThreadTurnInline(admin.TabularInline):
    """Read only: a turn's answer and charge are its Generation's (the money is there)."""

    model = ThreadTurn
    fields = ("created_at", "prompt", "generation", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChatThread)
class ChatThreadAdmin(admin.ModelAdmin):
    list_display = ("title", "model", "workspace", "user", "updated_at")
    list_filter = ("model",)
    search_fields = ("title", "user__email")
    raw_id_fields = ("workspace", "user", "model")
    inlines = [ThreadTurnInline]
