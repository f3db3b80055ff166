"""Job kinds of the batches app: create_batches, create_batches_from_dataset, set_priorities,
delete_labels, export_batches and publish_labels. Their params and row lists were validated
when the service created the job; each calls the services' public chunk functions in chunks
whose writes commit with the job's checkpoint, so a retried task resumes after the last
committed chunk and never repeats one.
"""

from __future__ import annotations

import tempfile

from dashboard.errors import Conflict
from dashboard.jobs.registry import job_kind
from dashboard.jobs.runner import Chunk, JobFailed, JobRun
from versions.models import DataRow, Dataset, DatasetVersion

from .export import export_lines, export_options
from .job_names import BATCH_COUNTS, batches_made, export_results, publish_results
from .models import Batch, JobInput, Project
from .services.batches import (
    MAX_BATCH_ROWS,
    batch_create_from_ids,
    batch_labels_clear,
    batch_names,
    labelled_entries,
)
from .services.priorities import priorities_apply
from .services.rows import failure_type, rows_resolve

PRIORITY_CHUNK = 10_000
DELETE_LABELS_CHUNK = 5_000


def _still_there(queryset, gone: str):
    """The object the job's params name, or the job fails saying it is `gone`."""
    found = queryset.first()
    if found is None:
        raise JobFailed(gone)
    return found


def _project(run: JobRun) -> Project:
    return _still_there(
        Project.objects.filter(pk=run.params["project_id"]), "The project was deleted."
    )


def _input(run: JobRun) -> list:
    return _still_there(
        JobInput.objects.filter(job_id=run.job.pk), "The job's input is missing."
    ).rows


def _report(chunk: Chunk, failed: list[dict]) -> None:
    for f in failed:
        key = f["global_key"] or f["data_row"] or ""
        chunk.error(
            index=f["index"],
            key=key,
            input=key,
            message=f["reason"],
            error_type=failure_type(f["reason"]),
        )


def _create_one(
    run: JobRun, chunk: Chunk, state: dict, *, project: Project, ids, positions, **extra
) -> None:
    name = batch_names(prefix=run.params["name_prefix"], count=state["number"] + 1)[-1]
    try:
        batch, failed = batch_create_from_ids(
            project=project,
            name=name,
            ids=ids,
            positions=positions,
            priority=run.params.get("priority"),
            consensus=run.params.get("consensus_settings"),
            user=run.job.created_by,
            **extra,
        )
    except Conflict as exc:
        raise JobFailed(f"Batch {name!r}: {exc.message}") from exc
    _report(chunk, failed)
    if batch is not None:
        state["number"] += 1
        state["batches"].append({"id": batch.pk, "name": batch.name, "size": batch.size})
        chunk.count("created", batch.size)


@job_kind(
    "create_batches",
    label="Create batches",
    title=lambda refs: f"Create batches {refs['name_prefix']}… in {refs['project_id']}",
    target="project_id",
    results=batches_made,
    counts=BATCH_COUNTS,
)
def create_batches(run: JobRun) -> dict:
    """Up to 1,000,000 rows, 100,000 per batch, named `<prefix>0000`, `<prefix>0001`, …"""
    project = _project(run)
    values = _input(run)
    field = run.params["field"]
    state = run.checkpoint or {"offset": 0, "number": 0, "batches": []}
    while state["offset"] < len(values):
        offset = state["offset"]
        part = values[offset : offset + MAX_BATCH_ROWS]
        with run.chunk() as chunk:
            ids, failed = rows_resolve(field=field, values=part, offset=offset)
            _report(chunk, failed)
            if ids:
                column_index = {}
                for i, value in enumerate(part):
                    column_index.setdefault(value, offset + i)
                if field == "data_rows":
                    positions = {rid: column_index[rid] for rid in ids}
                else:
                    keys = dict(DataRow.objects.filter(pk__in=ids).values_list("id", "global_key"))
                    positions = {rid: column_index.get(keys.get(rid)) for rid in ids}
                _create_one(run, chunk, state, project=project, ids=ids, positions=positions)
            state["offset"] = offset + len(part)
            chunk.done = len(part)
            chunk.checkpoint = dict(state)
    return {"batches": state["batches"]}


@job_kind(
    "create_batches_from_dataset",
    label="Create batches from a dataset",
    title=lambda refs: (
        f"Batches {refs['name_prefix']}… from "
        f"{refs.get('version_id') or refs['dataset_id']} into {refs['project_id']}"
    ),
    target="project_id",
    results=batches_made,
    counts=BATCH_COUNTS,
)
def create_batches_from_dataset(run: JobRun) -> dict:
    """Every row of a dataset (or version) not yet in the project, 100,000 per batch."""
    from .selectors import dataset_rows_outside

    project = _project(run)
    dataset = _still_there(
        Dataset.objects.filter(pk=run.params["dataset_id"]), "The dataset was deleted."
    )
    version = None
    if run.params.get("version_id"):
        version = _still_there(
            DatasetVersion.objects.filter(pk=run.params["version_id"]), "The version was deleted."
        )
    state = run.checkpoint or {"after": "", "number": 0, "batches": []}
    while True:
        ids = list(
            dataset_rows_outside(project=project, dataset=dataset, version=version).filter(
                id__gt=state["after"]
            )[:MAX_BATCH_ROWS]
        )
        if not ids:
            break
        with run.chunk() as chunk:
            _create_one(
                run,
                chunk,
                state,
                project=project,
                ids=ids,
                positions=None,
                dataset=dataset,
                version=version,
            )
            state["after"] = ids[-1]
            chunk.done = len(ids)
            chunk.checkpoint = dict(state)
    return {"batches": state["batches"]}


@job_kind(
    "set_priorities",
    label="Set row priorities",
    title=lambda refs: f"Set row priorities in {refs['project_id']}",
    target="project_id",
    counts={"updated": "rows updated", "failed": "rows failed"},
)
def set_priorities(run: JobRun) -> dict:
    """Row priority overrides in bulk; unknown rows and rows outside the project are errors."""
    project = _project(run)
    items = [tuple(item) for item in _input(run)]
    state = run.checkpoint or {"offset": 0, "updated": 0}
    while state["offset"] < len(items):
        offset = state["offset"]
        part = items[offset : offset + PRIORITY_CHUNK]
        with run.chunk() as chunk:
            updated, failed = priorities_apply(project=project, items=part, offset=offset)
            _report(chunk, failed)
            chunk.count("updated", updated)
            state["offset"] = offset + len(part)
            state["updated"] += updated
            chunk.done = len(part)
            chunk.checkpoint = dict(state)
    return {"updated": state["updated"]}


@job_kind(
    "delete_labels",
    label="Delete a batch's labels",
    title=lambda refs: f"Delete the labels of {refs['batch_id']} in {refs['project_id']}",
    target="batch_id",
    counts={"deleted": "labels deleted", "updated": "rows re-queued"},
)
def delete_labels(run: JobRun) -> dict:
    """Delete the batch's labels and re-queue its rows (optionally keeping templates)."""
    batch = _still_there(Batch.objects.filter(pk=run.params["batch_id"]), "The batch was deleted.")
    state = run.checkpoint or {"after": 0, "labels_deleted": 0, "rows_requeued": 0}
    labelled = labelled_entries(batch=batch).order_by("id")
    while True:
        ids = list(
            labelled.filter(id__gt=state["after"]).values_list("id", flat=True)[
                :DELETE_LABELS_CHUNK
            ]
        )
        if not ids:
            break
        with run.chunk() as chunk:
            deleted, requeued = batch_labels_clear(
                batch=batch,
                entries=ids,
                set_labels_as_template=run.params.get("set_labels_as_template", False),
            )
            chunk.count("deleted", deleted)
            chunk.count("updated", requeued)
            state["after"] = ids[-1]
            state["labels_deleted"] += deleted
            state["rows_requeued"] += requeued
            chunk.done = len(ids)
            chunk.checkpoint = dict(state)
    return {
        "batch_id": batch.pk,
        "labels_deleted": state["labels_deleted"],
        "rows_requeued": state["rows_requeued"],
    }


@job_kind(
    "export_batches",
    label="Export batches (NDJSON)",
    title=lambda refs: f"Export the batches of {refs['project_id']}",
    target="project_id",
    results=export_results,
    counts={},
)
def export_batches(run: JobRun) -> dict:
    """Write the NDJSON export to a file and attach it to the job (streamed, flat memory)."""
    project = _project(run)
    params = dict(run.params)
    params.pop("project_id")
    # A batch deleted since the job started fails the job with the reason (ApplicationError).
    options = export_options(project=project, **params)
    rows = 0
    with tempfile.TemporaryFile() as out:
        for line in export_lines(options):
            out.write(line.encode())
            rows += 1
            if rows % 1000 == 0:
                run.progress(rows)
        run.progress(rows, force=True)
        out.seek(0)
        run.attach_file(f"export-{project.pk}-{run.job.pk}.ndjson", out)
    return {"rows": rows, "batch_ids": options.batch_ids}


PUBLISH_CHUNK = 1000


@job_kind(
    "publish_labels",
    label="Publish labels into a dataset version",
    title=lambda refs: f"Publish the labels of {refs['project_id']} into {refs['version_id']}",
    target="version_id",
    results=publish_results,
    counts={"updated": "frames labelled", "failed": "rows failed"},
)
def publish_labels(run: JobRun) -> dict:
    """Write the project's labels as `rois` of the frames of a new draft version."""
    from versions.services import frames_update

    from .selectors import labels_to_publish
    from .services import label_rois

    project = _project(run)
    version = _still_there(
        DatasetVersion.objects.filter(pk=run.params["version_id"], removed=False),
        "The target version was removed.",
    )
    labels = labels_to_publish(project=project, dataset_id=run.params["dataset_id"])
    state = run.checkpoint or {"after": "", "index": 0, "updated": 0}
    while True:
        row_ids = list(
            labels.filter(data_row_id__gt=state["after"])
            .order_by("data_row_id")
            .values_list("data_row_id", flat=True)
            .distinct()[:PUBLISH_CHUNK]
        )
        if not row_ids:
            break
        # One annotation in memory at a time (each ≤ LABEL_MAX_ANNOTATION_BYTES): only its ROIs
        # are kept for the chunk.
        by_row: dict[str, list] = {}
        for row_id, annotation in (
            labels.filter(data_row_id__in=row_ids)
            .order_by("id")
            .values_list("data_row_id", "annotation")
            .iterator(chunk_size=100)
        ):
            rois = label_rois([annotation if isinstance(annotation, dict) else {}])
            by_row.setdefault(row_id, []).extend(rois)
        frames = [{"id": rid, "rois": by_row.get(rid, [])} for rid in row_ids]
        with run.chunk() as chunk:
            result = frames_update(version=version, frames=frames)
            for failure in result["failed"]:
                index = failure.get("index")
                chunk.error(
                    index=state["index"] + index if isinstance(index, int) else None,
                    key=str((failure.get("frame") or {}).get("id", "")),
                    input=failure.get("frame"),
                    message=str(failure.get("error")),
                    error_type=str(failure.get("error_type", "validation")),
                )
            chunk.count("updated", result["updated"])
            state["updated"] += result["updated"]
            state["after"] = row_ids[-1]
            state["index"] += len(row_ids)
            chunk.done = len(row_ids)
            chunk.checkpoint = dict(state)
    return {"version_id": version.pk, "frames_updated": state["updated"]}
