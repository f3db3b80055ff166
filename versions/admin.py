"""Admin for datasets, data rows, versions and frame storage."""

from django.contrib import admin, messages

from dashboard.errors import ApplicationError
from dashboard.jobs.services import job_create

from .models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision
from .services import version_commit, version_publish, version_snapshot


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset_project", "created_at"]
    search_fields = ["id", "name", "dataset_project", "description"]
    list_filter = ["created_at"]


@admin.register(DataRow)
class DataRowAdmin(admin.ModelAdmin):
    list_display = ["id", "global_key", "dataset", "row_data", "created_at"]
    search_fields = ["id", "global_key", "row_data"]
    list_filter = ["dataset"]
    list_select_related = ["dataset"]
    show_full_result_count = False  # counting a million rows per page view is wasted work


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset", "status", "parent", "depth", "updated_at", "published_at"]
    list_filter = ["status", "dataset", "removed"]
    search_fields = ["id", "name", "description", "dataset__name"]
    list_select_related = ["dataset", "parent"]
    raw_id_fields = ["parent"]
    readonly_fields = ["depth", "stats", "published_at", "created_at", "updated_at"]
    actions = ["publish", "snapshot", "commit", "recount"]

    def _each(self, request, queryset, verb, done: str):
        count = 0
        for version in queryset:
            try:
                verb(version)
                count += 1
            except ApplicationError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done}: {count} version(s).")

    @admin.action(description="Publish selected drafts")
    def publish(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda v: version_publish(version=v),
            "Published",
        )

    @admin.action(description="Publish a snapshot (and open a draft child)")
    def snapshot(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda v: version_snapshot(version=v, user=request.user),
            "Snapshots published",
        )

    @admin.action(description="Commit (refresh statistics)")
    def commit(self, request, queryset):
        self._each(request, queryset, lambda v: version_commit(version=v), "Committed")

    @admin.action(description="Recount statistics (background job)")
    def recount(self, request, queryset):
        for version in queryset:
            job_create(kind="recount_stats", params={"version_id": version.pk}, user=request.user)
        self.message_user(request, f"Started {queryset.count()} recount job(s).")


@admin.register(FrameRevision)
class FrameRevisionAdmin(admin.ModelAdmin):
    list_display = ["id", "data_row", "content_hash", "created_at"]
    search_fields = ["data_row__id", "content_hash"]
    raw_id_fields = ["data_row"]
    show_full_result_count = False


@admin.register(FrameEntry)
class FrameEntryAdmin(admin.ModelAdmin):
    list_display = ["id", "version", "data_row", "revision"]
    list_filter = ["version__dataset"]
    search_fields = ["data_row__id", "version__id"]
    raw_id_fields = ["version", "data_row", "revision"]
    show_full_result_count = False
