"""Admin for jobs: read the truth, cancel from a list action."""

from django.contrib import admin

from .admin_actions import each_selected
from .jobs.services import job_cancel, job_retry
from .models import Job, JobError


class JobErrorInline(admin.TabularInline):
    model = JobError
    extra = 0
    can_delete = False
    fields = ["index", "key", "message", "error_type"]
    readonly_fields = fields
    max_num = 0
    show_change_link = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "progress_done",
        "progress_total",
        "errors_count",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["id", "kind", "created_by__username", "error"]
    readonly_fields = [f.name for f in Job._meta.fields]
    inlines = [JobErrorInline]
    actions = ["cancel_jobs", "retry_jobs"]

    def has_add_permission(self, request):
        return False  # jobs are started by the verbs that need them

    @admin.action(description="Cancel selected jobs")
    def cancel_jobs(self, request, queryset):
        each_selected(self, request, queryset, lambda j: job_cancel(job=j), done="Cancel requested")

    @admin.action(description="Run selected failed or cancelled jobs again")
    def retry_jobs(self, request, queryset):
        each_selected(self, request, queryset, lambda j: job_retry(job=j), done="Run again")


@admin.register(JobError)
class JobErrorAdmin(admin.ModelAdmin):
    list_display = ["job", "index", "key", "message", "error_type"]
    list_filter = ["error_type"]
    search_fields = ["job__id", "key", "message"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]
