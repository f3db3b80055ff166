"""Admin for jobs: read the truth, cancel or run again from a list action (managers).

Jobs and their row errors are written by the job runner and the job services only: view-only.
Users and groups (the role groups) keep Django's admin, under the same roles: only a manager
changes who holds which role.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from .admin_actions import ReadOnlyInline, RoleAdmin, RoleGuard, each_selected
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


# Roles are groups: a staff user who is not a manager must not make themselves one.
admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class RoleUserAdmin(RoleGuard, UserAdmin):
    pass


@admin.register(Group)
class RoleGroupAdmin(RoleGuard, GroupAdmin):
    pass
