"""How the batches app's jobs read to people: the projects and batches they name (with links),
and the titles, results and counts of its job kinds (see `dashboard.jobs.describe`)."""

from __future__ import annotations

from django.urls import reverse

from dashboard.jobs.describe import Ref, job_ref_resolver, job_ref_search, named_refs

from .models import Batch, Project

project_refs = job_ref_resolver("project_id")(named_refs(Project.objects, "project-detail"))


@job_ref_resolver("batch_id")
def batch_refs(ids: set[str]) -> dict[str, Ref]:
    rows = Batch.objects.filter(pk__in=ids).values_list("pk", "name", "project_id")
    return {
        pk: Ref(name, reverse("project-detail", args=[project_id]) + f"#batch-{pk}")
        for pk, name, project_id in rows
    }


@job_ref_search("project_id")
def project_search(q: str):
    return Project.objects.filter(name__icontains=q).values_list("pk", flat=True)


@job_ref_search("batch_id")
def batch_search(q: str):
    return Batch.objects.filter(name__icontains=q).values_list("pk", flat=True)


def batches_made(job, refs: dict) -> list[tuple[str, str | None]]:
    """The batches a create-batches job made, each a link into its project."""
    project = refs.get("project_id")
    base = project.url if project is not None and project.url else None
    return [
        (
            f"Batch {b['name']} ({b['size']} rows)",
            f"{base}#batch-{b['id']}" if base else None,
        )
        for b in (job.result or {}).get("batches", [])
    ]


def publish_results(job, refs: dict) -> list[tuple[str, str | None]]:
    version = refs.get("version_id")
    return [(f"Open {version}", version.url)] if version is not None else []


def export_results(job, refs: dict) -> list[tuple[str, str | None]]:
    if not job.file:
        return []
    rows = (job.result or {}).get("rows")
    text = "Download the NDJSON file" + (f" ({rows} rows)" if isinstance(rows, int) else "")
    return [(text, reverse("api:job-file", args=[job.pk]))]


BATCH_COUNTS = {"created": "rows in new batches", "failed": "rows failed"}
