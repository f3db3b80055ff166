"""Admin for jobs: read the truth, cancel or run again from a list action (managers).

Jobs and their row errors are written by the job runner and the job services only: view-only.
"""

from django.contrib import admin

from .admin_actions import ReadOnlyInline, RoleAdmin, each_selected
from .jobs.services import job_cancel, job_retry
from .models import Job, JobError


class JobErrorInline(ReadOnlyInline):
    model = JobError
    fields = ["index", "key", "message", "error_type"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Job)
class JobAdmin(RoleAdmin):
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
    inlines = [JobErrorInline]
    actions = ["cancel_jobs", "retry_jobs"]

    @admin.action(description="Cancel selected jobs", permissions=["manager"])
    def cancel_jobs(self, request, queryset):
        each_selected(self, request, queryset, lambda j: job_cancel(job=j), done="Cancel requested")

    @admin.action(
        description="Run selected failed or cancelled jobs again", permissions=["manager"]
    )
    def retry_jobs(self, request, queryset):
        each_selected(self, request, queryset, lambda j: job_retry(job=j), done="Run again")


@admin.register(JobError)
class JobErrorAdmin(RoleAdmin):
    list_display = ["job", "index", "key", "message", "error_type"]
    list_filter = ["error_type"]
    search_fields = ["job__id", "key", "message"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]
