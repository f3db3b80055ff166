"""Admin for projects, batches, the queue, labels and skips."""

from django.contrib import admin

from .models import Batch, Label, Project, QueueEntry, Skip


class BatchInline(admin.TabularInline):
    model = Batch
    extra = 0
    fields = ["name", "priority", "size", "created_at"]
    readonly_fields = ["size", "created_at"]
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "reservation_seconds", "created_by", "created_at"]
    search_fields = ["id", "name", "description"]
    list_filter = ["created_at"]
    inlines = [BatchInline]


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "priority", "size", "created_at"]
    list_filter = ["project", "created_at"]
    search_fields = ["id", "name", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["dataset", "version"]
    readonly_fields = ["size"]


@admin.register(QueueEntry)
class QueueEntryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "batch",
        "data_row",
        "state",
        "sort_priority",
        "labels_count",
        "labels_required",
        "reserved_by",
        "reserved_until",
    ]
    list_filter = ["state", "project"]
    search_fields = ["data_row__id", "data_row__global_key", "batch__name"]
    list_select_related = ["project", "batch", "reserved_by"]
    raw_id_fields = ["batch", "data_row", "reserved_by"]
    show_full_result_count = False


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "batch", "data_row", "author", "created_at"]
    list_filter = ["project", "created_at"]
    search_fields = ["data_row__id", "data_row__global_key", "author__username"]
    list_select_related = ["project", "batch", "author"]
    raw_id_fields = ["batch", "data_row"]


@admin.register(Skip)
class SkipAdmin(admin.ModelAdmin):
    list_display = ["project", "data_row", "user", "created_at"]
    list_filter = ["project"]
    search_fields = ["data_row__id", "user__username"]
    raw_id_fields = ["data_row"]
