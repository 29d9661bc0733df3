from django.contrib import admin

from .models import Attempt, ContentPolicy, ContentRefusal, Generation, Output


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


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ("id", "model", "user", "workspace", "status", "price", "charged", "channel_name", "created_at")
    list_filter = ("status", "model__modality", "source", "channel_name")
    search_fields = ("id", "user__email", "model__slug", "upstream_id", "error_code")
    date_hierarchy = "created_at"
    inlines = [OutputInline, AttemptInline]
    readonly_fields = [f.name for f in Generation._meta.fields]
    list_select_related = ("model", "user", "workspace")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
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

    def has_add_permission(self, request):
        return False
