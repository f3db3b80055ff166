"""How the versions app's jobs read to people: the datasets and versions they name (with links
to their pages), and the titles, results and counts of import, update_rows, delete_rows,
add_frames and recount_stats (see `dashboard.jobs.describe`)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from dashboard.jobs.describe import Ref, job_ref_resolver, job_ref_search, named_refs

from .models import Dataset, DatasetVersion

dataset_refs = job_ref_resolver("dataset_id")(named_refs(Dataset.objects, "dataset-detail"))


@job_ref_resolver("version_id")
def version_refs(ids: set[str]) -> dict[str, Ref]:
    """A version reads "dataset / version" (a removed one has no page)."""
    rows = DatasetVersion.objects.filter(pk__in=ids).values_list(
        "pk", "name", "dataset__name", "removed"
    )
    return {
        pk: Ref(
            f"{dataset} / {name}" + (" (removed)" if removed else ""),
            None if removed else reverse("version-detail", args=[pk]),
        )
        for pk, name, dataset, removed in rows
    }


@job_ref_search("dataset_id")
def dataset_search(q: str):
    return Dataset.objects.filter(name__icontains=q).values_list("pk", flat=True)


@job_ref_search("version_id")
def version_search(q: str):
    """A version's title reads "dataset / version": either name matches."""
    return DatasetVersion.objects.filter(
        Q(name__icontains=q) | Q(dataset__name__icontains=q)
    ).values_list("pk", flat=True)


RECORDS = {"data_rows": "data rows", "frames": "frames"}

IMPORT_COUNTS = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "deleted": "deleted (sync)",
    "failed": "failed",
}


def import_title(refs: dict) -> str:
    version = refs["version_id"]
    if version.url is None and "dataset_id" in refs:
        # The draft the import opened was taken away again: it wrote nothing.
        return f"Import into {refs['dataset_id']} (nothing written; its new draft is gone)"
    return f"Import into {version}"


def version_results(job, refs: dict) -> list[tuple[str, str | None]]:
    version = refs.get("version_id")
    if version is None:
        return []
    return [(f"Open {version}", version.url)]


def import_results(job, refs: dict) -> list[tuple[str, str | None]]:
    counts = job.counts or {}
    written = sum(counts.get(k, 0) for k in ("created", "updated"))
    what = RECORDS.get(refs.get("record_type", ""), "records")
    version = refs.get("version_id")
    if version is None:
        return []
    return [(f"{written} {what} written into {version}", version.url)]
