from django.contrib import admin

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "workspace", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__email")
    # The hash is useless to read and must not be edited; keys are created by their owners.
    readonly_fields = ("prefix", "secret_hash", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
