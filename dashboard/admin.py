"""Admin for jobs: read the truth, cancel or run again from a list action (managers); the
event log and webhook deliveries (read-only, managers), webhooks (managers, via the services).

Jobs and their row errors are written by the job runner and the job services only: view-only.
Users and groups (the role groups) keep Django's admin, under the same roles: only a manager
changes who holds which role.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from .admin_actions import ReadOnlyInline, RoleAdmin, RoleGuard, all_link, each_selected
from .admin_filters import ValueLookupFilter
from .events import EVENT_TYPES
from .jobs.registry import job_kinds
from .jobs.services import job_cancel, job_retry
from .models import Delivery, Event, Job, JobError, Webhook
from .roles import Role
from .webhooks import delivery_redeliver, webhook_create, webhook_delete, webhook_update
from .webhooks_forms import webhook_form_values


def job_kind_names() -> list[str]:
    return [kind.name for kind in job_kinds()]


class JobErrorInline(ReadOnlyInline):
    model = JobError
    fields = ["index", "key", "message", "error_type"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "first row errors"


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
    list_filter = ["status", ("kind", ValueLookupFilter.of(job_kind_names)), "created_at"]
    search_fields = ["id", "kind", "created_by__username", "error"]
    list_select_related = ["created_by"]
    show_full_result_count = False
    inlines = [JobErrorInline]
    actions = ["cancel_jobs", "retry_jobs"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "all_row_errors"] if obj is not None else fields

    @admin.display(description="row errors")
    def all_row_errors(self, obj):
        return all_link(JobError, field="job", obj=obj, count=obj.errors_count)

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
    list_filter = [("error_type", ValueLookupFilter)]
    search_fields = ["job__id", "key", "message"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]
    show_full_result_count = False


@admin.register(Event)
class EventAdmin(RoleAdmin):
    read_role = Role.MANAGER
    list_display = ["id", "type", "at", "actor_username", "project", "dataset", "object_id"]
    list_filter = [("type", ValueLookupFilter.of(lambda: EVENT_TYPES)), "at"]
    search_fields = ["id", "type", "actor_username", "project", "dataset", "object_id"]
    show_full_result_count = False


@admin.register(Delivery)
class DeliveryAdmin(RoleAdmin):
    read_role = Role.MANAGER
    list_display = ["id", "webhook", "event", "status", "attempts", "response_status", "error"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "webhook__url", "event__type"]
    list_select_related = ["webhook", "event"]
    raw_id_fields = ["webhook", "event"]
    show_full_result_count = False
    actions = ["redeliver"]

    @admin.action(description="Redeliver selected deliveries", permissions=["manager"])
    def redeliver(self, request, queryset):
        each_selected(
            self, request, queryset, lambda d: delivery_redeliver(delivery=d), done="Redelivered"
        )


class WebhookAdminForm(forms.ModelForm):
    url = forms.CharField(max_length=2000, help_text="http:// or https://")
    secret = forms.CharField(
        required=False, max_length=128, help_text="Leave empty to generate one (shown once)."
    )

    class Meta:
        model = Webhook
        fields = ["url", "events", "project", "active", "secret"]
        help_texts = {"events": f'A JSON list of types or ["*"]: {", ".join(EVENT_TYPES)}.'}


@admin.register(Webhook)
class WebhookAdmin(RoleAdmin):
    """Managers only, reading too: a webhook's URL is where events go. The secret is never
    shown again after the add form (a new one may be set from the API or the page)."""

    read_role = Role.MANAGER
    form = WebhookAdminForm
    service_writes = ("add", "change", "delete")
    add_fields = ("url", "events", "project", "active", "secret")
    change_fields = ("url", "events", "project", "active")
    list_display = ["url", "events", "project", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "project"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(self.add_fields)
        return [*self.change_fields, "id", "created_by", "created_at", "updated_at"]

    def service_add(self, request, data: dict):
        webhook = webhook_create(**webhook_form_values(data), user=request.user)
        self.message_user(
            request, f"The webhook's secret (shown only now): {webhook.secret}", messages.WARNING
        )
        return webhook

    def service_change(self, request, obj, changed: dict) -> None:
        webhook_update(webhook=obj, **changed)

    def service_delete(self, request, obj) -> None:
        webhook_delete(webhook=obj)


# Roles are groups: a staff user who is not a manager must not make themselves one.
admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class RoleUserAdmin(RoleGuard, UserAdmin):
    # Only a superuser makes superusers or staff, or grants permissions one by one: a manager
    # changes who holds which role (groups), never their own way around the roles.
    SUPERUSER_ONLY = ("is_superuser", "is_staff", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else fields + self.SUPERUSER_ONLY


@admin.register(Group)
class RoleGroupAdmin(RoleGuard, GroupAdmin):
    pass
