from django.contrib import admin

from .models import ApiKey, IdempotencyRecord
from .services import api_key_set_limits


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "kind", "user", "workspace", "created_at", "last_used_at", "expires_at",
                    "paused_at", "revoked_at")
    list_filter = ("kind", "revoked_at", "paused_at")
    search_fields = ("name", "prefix", "user__email")
    # The hash is useless to read and must not be edited; keys are created by their owners.
    readonly_fields = ("prefix", "secret_hash", "created_at", "last_used_at")
    fields = ("name", "user", "workspace", "kind", "prefix", "secret_hash", "permissions", "allowed_models",
              "requests_per_minute", "credit_limit", "monthly_credit_limit", "expires_at", "paused_at", "revoked_at",
              "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The wallet Budget enforces the limits: keep it in step with what the admin typed.
        api_key_set_limits(key=obj, credit_limit=obj.credit_limit, monthly_credit_limit=obj.monthly_credit_limit)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "workspace", "state", "status_code", "created_at")
    readonly_fields = ("workspace", "key", "request_hash", "state", "status_code", "content_type", "created_at")
    exclude = ("body",)

    def has_add_permission(self, request):
        return False
