"""Admin for jobs: read the truth, cancel from a list action."""

from django.contrib import admin, messages

from dashboard.errors import ApplicationError

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
        done = 0
        for job in queryset:
            try:
                job_cancel(job=job)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Cancel requested for {done} job(s).")

    @admin.action(description="Run selected failed or cancelled jobs again")
    def retry_jobs(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                job_retry(job=job)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} job(s) run again.")


@admin.register(JobError)
class JobErrorAdmin(admin.ModelAdmin):
    list_display = ["job", "index", "key", "message", "error_type"]
    list_filter = ["error_type"]
    search_fields = ["job__id", "key", "message"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]
