from django.contrib import admin, messages

from . import services
from .models import Attempt, Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "workspace", "enabled", "failing_since", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "workspace__name", "description")
    readonly_fields = ("workspace", "created_by", "created_at", "disabled_at", "failing_since")
    fields = ("workspace", "url", "description", "events", "enabled", "disabled_at", "disabled_reason",
              "failing_since", "created_by", "created_at")
    actions = ["disable", "enable"]

    def has_add_permission(self, request):
        return False  # created in the site, where the secret is shown once

    @admin.action(description="Disable (pending deliveries give up)")
    def disable(self, request, queryset):
        for endpoint in queryset.filter(enabled=True):
            services.endpoint_disable(endpoint=endpoint, reason=f"Disabled by an administrator ({request.user}).")

    @admin.action(description="Enable")
    def enable(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_enable(endpoint=endpoint)


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_excerpt")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "url", "state", "attempts", "last_status_code", "next_attempt_at", "created_at")
    list_filter = ("state",)
    search_fields = ("event__id", "url", "event__generation__id")
    readonly_fields = ("event", "endpoint", "url", "state", "attempts", "next_attempt_at", "last_status_code",
                       "last_error", "delivered_at", "created_at")
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Redeliver now")
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_redeliver(delivery=delivery)
                sent += 1
            except services.WebhookError as exc:
                self.message_user(request, f"{delivery}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{sent} redelivery(ies) queued.")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "workspace", "generation", "created_at")
    list_filter = ("type",)
    search_fields = ("id", "generation__id")
    readonly_fields = ("id", "type", "workspace", "generation", "created_at")

    def has_add_permission(self, request):
        return False
