"""Admin for projects, batches, the queue, labels and skips: the API's roles and services,
and the API's input rules (ProjectAdminForm, BatchAdminForm in batches/forms.py).

Projects are added and edited through `project_create` / `project_update` (there is no project
deletion: it would cascade past the "batch with labels" refusal). Batches are renamed,
re-prioritised (their queue follows) and deleted through the batch services; they are created
with their rows on the pages and the API. Queue entries, labels and skips are written by the
queue services only: view-only, changed through the batch actions; labels are reviewed
through the accept / reject actions (the review services).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from dashboard.admin_actions import ReadOnlyInline, RoleAdmin, all_link
from dashboard.admin_filters import (
    RelatedLookupFilter,
    ToldApartFilter,
    ValueLookupFilter,
    told_apart,
)
from dashboard.errors import ApplicationError
from dashboard.models import Job
from dashboard.roles import Role

from . import services
from .forms import BatchAdminForm, ProjectAdminForm
from .models import (
    PROJECT_SETTINGS,
    REVIEW_REASON_MAX_LENGTH,
    Batch,
    GoldRow,
    GoldServing,
    Label,
    Project,
    QueueEntry,
    Skip,
)
from .services.reviews import REVIEW_BULK_MAX


class BatchInline(ReadOnlyInline):
    model = Batch
    fields = ["name", "priority", "size", "created_at"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["-created_at", "-id"]  # the newest `shown_max`; "all batches" lists the rest
    verbose_name_plural = "newest batches"


@admin.register(Project)
class ProjectAdmin(RoleAdmin):
    # Projects may share a name: the id and description tell them apart.
    list_display = [
        "name",
        "id",
        "description",
        "reservation_seconds",
        "review_percentage",
        "created_by",
        "created_at",
    ]
    search_fields = ["id", "name", "description"]
    list_filter = ["created_at"]
    list_select_related = ["created_by"]
    inlines = [BatchInline]
    form = ProjectAdminForm  # the API's rules for the ontology and the reservation time
    service_writes = ("add", "change")
    add_fields = change_fields = PROJECT_SETTINGS

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "all_batches"] if obj is not None else fields

    @admin.display(description="batches")
    def all_batches(self, obj):
        return all_link(Batch, field="project", obj=obj, count=obj.batches.count())

    def service_add(self, request, data):
        return services.project_create(**{k: data[k] for k in self.add_fields}, user=request.user)

    def service_change(self, request, obj, changed):
        services.project_update(project=obj, **changed)


@admin.register(Batch)
class BatchAdmin(RoleAdmin):
    list_display = ["name", "project_told_apart", "priority", "size", "created_at"]
    list_filter = [("project", ToldApartFilter), "created_at"]
    search_fields = ["id", "name", "project__name"]
    list_select_related = ["project"]
    show_full_result_count = False  # with a filter: no second count of every batch
    actions = ["remove_queued_rows", "delete_labels", "delete_labels_as_templates", "export"]
    service_writes = ("change", "delete")
    change_fields = ("name", "priority")  # like `PATCH projects/{id}/batches/{id}/`
    form = BatchAdminForm

    @admin.display(description="project", ordering="project__name")
    def project_told_apart(self, obj):
        return told_apart(obj.project)

    def service_change(self, request, obj, changed):
        services.batch_update(batch=obj, **changed)

    def service_delete(self, request, obj):
        services.batch_delete(batch=obj)

    def _each(self, request, queryset, verb):
        for batch in queryset:
            try:
                result = verb(batch)
            except ApplicationError as exc:
                self.message_user(request, f"{batch.name}: {exc.message}", messages.ERROR)
                continue
            if isinstance(result, Job):
                link = reverse("job-detail", args=[result.pk])
                self.message_user(
                    request,
                    format_html(
                        '{}: started job <a href="{}">{}</a>.', batch.name, link, result.pk
                    ),
                )
            else:
                self.message_user(request, f"{batch.name}: {result}")

    @admin.action(
        description="Remove queued rows (rows without labels leave the batch)",
        permissions=["manager"],
    )
    def remove_queued_rows(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda b: services.removed_text(services.batch_remove_queued_data_rows(batch=b)),
        )

    def _delete_labels(self, request, queryset, template: bool):
        def verb(batch):
            result = services.batch_delete_labels(
                batch=batch, set_labels_as_template=template, user=request.user
            )
            if isinstance(result, Job):
                return result
            return (
                f"{result['labels_deleted']} labels deleted, "
                f"{result['rows_requeued']} rows re-queued"
            )

        self._each(request, queryset, verb)

    @admin.action(description="Delete labels and re-queue the rows", permissions=["manager"])
    def delete_labels(self, request, queryset):
        self._delete_labels(request, queryset, False)

    @admin.action(description="Delete labels, keeping them as templates", permissions=["manager"])
    def delete_labels_as_templates(self, request, queryset):
        self._delete_labels(request, queryset, True)

    @admin.action(
        description="Export the batches' rows (NDJSON job, with labels and metadata)",
        permissions=["manager"],
    )
    def export(self, request, queryset):
        by_project: dict = {}
        for batch in queryset.select_related("project"):
            by_project.setdefault(batch.project, []).append(batch.pk)
        for project, ids in by_project.items():
            try:
                job = services.export_start(
                    project=project,
                    user=request.user,
                    batch_ids=ids,
                    attachments=True,
                    metadata_fields=True,
                    data_row_details=True,
                    labels=True,
                )
            except ApplicationError as exc:  # refused for this project: say so, go on
                self.message_user(request, f"{project.name}: {exc.message}", messages.ERROR)
                continue
            link = reverse("job-detail", args=[job.pk])
            self.message_user(
                request,
                format_html(
                    '{}: export job <a href="{}">{}</a> started.', project.name, link, job.pk
                ),
            )


@admin.register(QueueEntry)
class QueueEntryAdmin(RoleAdmin):
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
        "escalated",
        "agreement",
        "gold",
    ]
    list_filter = [
        "state",
        "escalated",
        "gold",
        ("project", ToldApartFilter),
        ("batch", RelatedLookupFilter),
        ("labels_required", ValueLookupFilter),
    ]
    search_fields = ["data_row__id", "data_row__global_key", "batch__name"]
    list_select_related = ["project", "batch", "reserved_by"]
    raw_id_fields = ["batch", "data_row", "reserved_by", "rework_label"]
    show_full_result_count = False


class LabelRejectForm(forms.Form):
    """The admin's reject action: the reason every selected label is rejected with."""

    reason = forms.CharField(
        max_length=REVIEW_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to whoever labels the row next.",
    )


@admin.register(Label)
class LabelAdmin(RoleAdmin):
    """Labels are written by the queue and review services: view-only here; reviews go
    through the accept / reject actions (`labels_review`), each label decided as the API would."""

    # Other people's annotations are a manager's view (labelers must not see them while they
    # label the same rows; exports with labels are for managers alike).
    read_role = Role.MANAGER
    list_display = [
        "id",
        "project",
        "batch",
        "data_row",
        "author",
        "status",
        "seconds",
        "reviewer",
        "created_at",
    ]
    list_filter = [
        "status",
        ("project", ToldApartFilter),
        ("batch", RelatedLookupFilter),
        "created_at",
    ]
    search_fields = ["data_row__id", "data_row__global_key", "author__username"]
    list_select_related = ["project", "batch", "author", "reviewer"]
    show_full_result_count = False
    raw_id_fields = ["batch", "data_row"]
    actions = ["accept_labels", "reject_labels"]

    def _review(self, request, queryset, decision: str, reason: str = "") -> None:
        by_project: dict = {}
        for label_id, project_id in queryset.values_list("pk", "project_id"):
            by_project.setdefault(project_id, []).append(label_id)
        projects = Project.objects.in_bulk(list(by_project))
        for project_id, ids in by_project.items():
            project = projects[project_id]
            try:
                result = services.labels_review(
                    project=project,
                    label_ids=ids,
                    decision=decision,
                    reason=reason,
                    user=request.user,
                )
            except ApplicationError as exc:
                self.message_user(request, f"{project.name}: {exc.message}", messages.ERROR)
                continue
            done = result.get("accepted", result.get("rejected", 0))
            verb = "accepted" if decision == "accept" else "rejected"
            self.message_user(request, f"{project.name}: {done} labels {verb}.")
            for failure in result["failed"]:
                self.message_user(
                    request, f"Label {failure['label']}: {failure['reason']}", messages.ERROR
                )

    @admin.action(description="Accept the selected labels", permissions=["manager"])
    def accept_labels(self, request, queryset):
        self._review(request, queryset, "accept")

    @admin.action(
        description="Reject the selected labels (with a reason; rows re-queued for rework)",
        permissions=["manager"],
    )
    def reject_labels(self, request, queryset):
        if queryset.count() > REVIEW_BULK_MAX:
            self.message_user(request, f"At most {REVIEW_BULK_MAX} labels at once.", messages.ERROR)
            return None
        form = LabelRejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._review(request, queryset, "reject", form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "labels": queryset,
            "title": "Reject labels",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "batches/_reject_labels_admin.html", context)


@admin.register(Skip)
class SkipAdmin(RoleAdmin):
    list_display = ["project", "data_row", "user", "created_at"]
    list_filter = [("project", ToldApartFilter)]
    search_fields = ["data_row__id", "user__username"]
    list_select_related = ["project", "data_row", "user"]
    raw_id_fields = ["data_row"]
    show_full_result_count = False


@admin.register(GoldRow)
class GoldRowAdmin(RoleAdmin):
    """Gold rows: reviewers read them; a manager removes one through `gold_delete` (its labels
    keep their scores). Setting answers is `PUT projects/{id}/gold/` (a list, checked there)."""

    read_role = Role.REVIEWER
    list_display = ["data_row", "project", "created_by", "created_at", "updated_at"]
    list_filter = [("project", ToldApartFilter)]
    search_fields = ["data_row__id", "data_row__global_key"]
    list_select_related = ["project", "created_by"]
    raw_id_fields = ["data_row"]
    show_full_result_count = False
    service_writes = ("delete",)

    def service_delete(self, request, obj):
        services.gold_delete(project=obj.project, data_row_id=obj.data_row_id)


@admin.register(GoldServing)
class GoldServingAdmin(RoleAdmin):
    """Who was served which gold row (read-only: the queue verbs write these)."""

    read_role = Role.MANAGER
    list_display = ["data_row", "user", "project", "state", "served_at", "reserved_until"]
    list_filter = [("project", ToldApartFilter), "state"]
    search_fields = ["data_row__id", "user__username"]
    list_select_related = ["data_row", "user", "project"]
    raw_id_fields = ["data_row"]
    show_full_result_count = False
