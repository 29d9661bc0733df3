from django.contrib import admin

from apps.wallet.money import format_credits

from .models import LowBalanceAlert, ModelShowcase


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
