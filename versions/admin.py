"""Admin for datasets, data rows, versions and frame storage: the API's roles and services.

Datasets and versions are added, edited and deleted through `versions.services` (a version's
dataset, parent and status never change by hand); data rows and frame storage are written by
imports and frame services only, so they are view-only here.
"""

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget

from dashboard.admin_actions import RoleAdmin, each_selected
from dashboard.admin_filters import RelatedLookupFilter
from dashboard.errors import ApplicationError, Invalid

from . import services
from .models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision


@admin.register(Dataset)
class DatasetAdmin(RoleAdmin):
    list_display = ["name", "dataset_project", "created_at"]
    search_fields = ["id", "name", "dataset_project", "description"]
    list_filter = ["created_at"]
    service_writes = ("add", "change", "delete")
    add_fields = ("name", "dataset_project", "description", "tags")
    change_fields = (*add_fields, "metadata_schema")

    def service_add(self, request, data):
        dataset, _ = services.dataset_create(
            **{k: data[k] for k in self.add_fields}, raise_if_exists=True, user=request.user
        )
        return dataset

    def service_change(self, request, obj, changed):
        if "metadata_schema" in changed:
            try:
                services.dataset_set_metadata_schema(
                    dataset=obj, fields=changed.pop("metadata_schema") or [], user=request.user
                )
            except ApplicationError as exc:  # shown on the schema's own form field
                raise Invalid(exc.message, field="metadata_schema") from None
        if changed:
            services.dataset_update(dataset=obj, **changed)

    def service_delete(self, request, obj):
        services.dataset_delete(dataset=obj)


EXPORT_IDS_CHUNK = 5000  # selected data rows exported per query


@admin.register(DataRow)
class DataRowAdmin(RoleAdmin):
    list_display = ["id", "global_key", "dataset", "row_data", "created_at"]
    search_fields = ["id", "global_key", "row_data"]
    list_filter = [("dataset", RelatedLookupFilter)]
    list_select_related = ["dataset"]
    show_full_result_count = False  # counting a million rows per page view is wasted work
    change_list_template = "versions/_import_admin_changelist.html"
    actions = ["export_ndjson", "export_csv"]

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="versions_datarow_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Import data rows into a draft of a dataset, as the dataset page does (the same
        columns guide, preview, kept file and target choice; `form_import` behind both)."""
        from django import forms
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import redirect
        from django.template.response import TemplateResponse

        from .bulk.guide import import_columns
        from .bulk.views import form_import
        from .forms import DataRowImportForm
        from .views import import_targets

        if not self.has_manager_permission(request):
            raise PermissionDenied("Your role does not allow this action.")
        form = DataRowImportForm(request.POST or None, request.FILES or None)
        # An id box and the datasets' (paginated, searchable) list, not a select of every one.
        form.fields["dataset"].widget = ForeignKeyRawIdWidget(
            DataRow._meta.get_field("dataset").remote_field, self.admin_site
        )
        done = None
        if request.method == "POST":
            done = form_import(request, form, record_type="data_rows", keep=True)
            if done.job is not None:
                self.message_user(request, f"{done.job.title}: started as job {done.job.pk}.")
                return redirect("job-detail", job_id=done.job.pk)
            if done.error and done.error["field"] not in form.errors:
                field = done.error["field"] if done.error["field"] in form.fields else None
                form.add_error(field, done.error["message"])
        dataset = getattr(form, "cleaned_data", {}).get("dataset")
        targets = import_targets(dataset) if dataset is not None else None
        target_text = None
        if targets:
            form.fields["version"].widget = forms.Select(choices=targets["choices"])
            chosen = form.data.get("version") or ""
            texts = dict(targets["choices"])
            target_text = texts.get(chosen, targets["choices"][0][1])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import data rows",
            "media": self.media,
            "columns": import_columns("data_rows"),
            "dataset": dataset,
            "targets": targets,
            "target_text": target_text,
            "preview": done.preview if done else None,
            "staged": done.staged if done else None,
        }
        return TemplateResponse(
            request, "versions/_import_admin.html", context, status=done.status if done else 200
        )

    def _export(self, request, queryset, fmt: str):
        """The selected rows as in their dataset's current version, streamed."""
        from django.db.models import Q
        from django.http import StreamingHttpResponse

        from dashboard.bulk.export import content_type, export_filename, export_stream

        from .bulk.export import export_records
        from .bulk.records import DATA_ROWS
        from .selectors import version_for_reading

        # The selection may be every row ("select all"): read a chunk of ids at a time, never
        # the whole list of a million ids before the first byte.
        rows = queryset.order_by()
        dataset_ids = list(rows.values_list("dataset_id", flat=True).distinct())

        def records():
            for dataset_id in dataset_ids:
                version = version_for_reading(dataset=Dataset.objects.get(pk=dataset_id))
                if version is None:
                    continue
                ids = rows.filter(dataset_id=dataset_id).order_by("pk").values_list("pk", flat=True)
                after = None
                while part := list(
                    (ids if after is None else ids.filter(pk__gt=after))[:EXPORT_IDS_CHUNK]
                ):
                    after = part[-1]
                    yield from export_records(version, shape="data_rows", q=Q(data_row_id__in=part))

        pieces = export_stream(records(), fmt=fmt, fields=DATA_ROWS.field_names)
        response = StreamingHttpResponse(
            (p.encode() for p in pieces), content_type=content_type(fmt)
        )
        name = export_filename("data-rows", fmt)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    # A read, like `GET datasets/{id}/data-rows/export/`: viewers may.
    @admin.action(description="Export selected data rows (NDJSON)", permissions=["view"])
    def export_ndjson(self, request, queryset):
        return self._export(request, queryset, "ndjson")

    @admin.action(description="Export selected data rows (CSV)", permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")


@admin.register(DatasetVersion)
class DatasetVersionAdmin(RoleAdmin):
    list_display = ["name", "dataset", "status", "parent", "depth", "updated_at", "published_at"]
    list_filter = ["status", ("dataset", RelatedLookupFilter), "removed"]
    search_fields = ["id", "name", "description", "dataset__name"]
    list_select_related = ["dataset", "parent"]
    raw_id_fields = ["dataset", "parent"]  # an id box and a lookup: never every dataset
    actions = ["publish", "snapshot", "commit", "recount"]
    service_writes = ("add", "change", "delete")
    # A version's dataset, parent and status are what its frames are: never edited by hand
    # (re-parenting would serve another dataset's rows); publish with the actions.
    add_fields = ("dataset", "name", "description", "parent", "metadata")
    change_fields = ("name", "description", "metadata")

    def service_add(self, request, data):
        version, _ = services.version_create(
            **{k: data[k] for k in self.add_fields}, raise_if_exists=True, user=request.user
        )
        return version

    def service_change(self, request, obj, changed):
        metadata = changed.pop("metadata", None)
        if changed:
            services.version_update(version=obj, **changed)
        if metadata is not None:
            services.version_set_metadata(version=obj, metadata=metadata)

    def service_delete(self, request, obj):
        # The admin's confirmation page is the API's `force=true` for a published version.
        services.version_remove(version=obj, force=True)

    @admin.action(description="Publish selected drafts", permissions=["manager"])
    def publish(self, request, queryset):
        each_selected(
            self, request, queryset, lambda v: services.version_publish(version=v), done="Published"
        )

    @admin.action(
        description="Publish a snapshot (and open a draft child)", permissions=["manager"]
    )
    def snapshot(self, request, queryset):
        self.each_as_user(request, queryset, services.version_snapshot, "Snapshots published")

    @admin.action(description="Commit (refresh statistics)", permissions=["manager"])
    def commit(self, request, queryset):
        self.each_as_user(request, queryset, services.version_commit_or_start, "Committed")

    @admin.action(description="Recount statistics (background job)", permissions=["manager"])
    def recount(self, request, queryset):
        self.each_as_user(
            request, queryset, services.version_stats_refresh_start, "Recount started"
        )

    def each_as_user(self, request, queryset, service, done: str) -> None:
        """`service(version=…, user=…)` for each selected version, as the admin user."""
        each_selected(
            self, request, queryset, lambda v: service(version=v, user=request.user), done=done
        )


@admin.register(FrameRevision)
class FrameRevisionAdmin(RoleAdmin):
    list_display = ["id", "data_row", "content_hash", "created_at"]
    search_fields = ["data_row__id", "content_hash"]
    raw_id_fields = ["data_row"]
    show_full_result_count = False


@admin.register(FrameEntry)
class FrameEntryAdmin(RoleAdmin):
    list_display = ["id", "version", "data_row", "revision"]
    list_filter = [("version__dataset", RelatedLookupFilter)]
    search_fields = ["data_row__id", "version__id"]
    raw_id_fields = ["version", "data_row", "revision"]
    show_full_result_count = False
