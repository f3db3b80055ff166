"""Writes on projects, batches, queue entries and labels."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from dashboard.errors import Conflict, Invalid, validate_int32
from versions.models import DataRow

from .models import NO_PRIORITY_SORT, Batch, Label, Project, QueueEntry

MAX_BATCH_ROWS = 100_000


def project_create(
    *,
    name: str,
    description: str = "",
    label_classes: list | None = None,
    reservation_seconds: int = 600,
    user=None,
) -> Project:
    if not (name or "").strip():
        raise Invalid("A project needs a name.", field="name")
    return Project.objects.create(
        name=name.strip(),
        description=description,
        label_classes=list(label_classes or []),
        reservation_seconds=reservation_seconds,
        created_by=user if user and user.pk else None,
    )


def consensus_validate(settings: Any) -> dict | None:
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise Invalid(
            "Must be an object {number_of_labels, coverage_percentage} or null.",
            field="consensus_settings",
        )
    n, cover = settings.get("number_of_labels"), settings.get("coverage_percentage")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise Invalid("number_of_labels must be an integer ≥ 1.", field="consensus_settings")
    if isinstance(cover, bool) or not isinstance(cover, int | float) or not 0 < cover <= 1:
        raise Invalid("coverage_percentage must be a number in (0, 1].", field="consensus_settings")
    return {"number_of_labels": n, "coverage_percentage": float(cover)}


def consensus_covers(*, batch_id: str, data_row_id: str, coverage: float) -> bool:
    """Reproducible choice of the consensus share: a hash of batch and row, not a die roll."""
    digest = hashlib.sha1(f"{batch_id}:{data_row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < coverage


def _resolve_rows(
    *, global_keys: list | None, data_rows: list | None
) -> tuple[list[str], list[dict]]:
    """Map the input to data row ids in input order; unknown ones become failed rows."""
    if (global_keys is None) == (data_rows is None):
        raise Invalid("Give exactly one of global_keys or data_rows.", field="global_keys")
    field, values = (
        ("global_keys", global_keys) if global_keys is not None else ("data_rows", data_rows)
    )
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Invalid("Must be a list of strings.", field=field)
    if len(values) > MAX_BATCH_ROWS:
        raise Invalid(
            f"A batch holds at most {MAX_BATCH_ROWS} rows; got {len(values)}.", field=field
        )
    column = "global_key" if field == "global_keys" else "id"
    known = {}
    for start in range(0, len(values), 10_000):
        part = values[start : start + 10_000]
        known.update(DataRow.objects.filter(**{f"{column}__in": part}).values_list(column, "id"))
    ids, failed, seen = [], [], set()
    for value in values:
        row_id = known.get(value)
        key = {"global_key": value} if column == "global_key" else {"data_row": value}
        if row_id is None:
            failed.append(
                {
                    "data_row": key.get("data_row"),
                    "global_key": key.get("global_key"),
                    "reason": "unknown",
                }
            )
        elif row_id in seen:
            failed.append(
                {
                    "data_row": row_id,
                    "global_key": key.get("global_key"),
                    "reason": "duplicate in input",
                }
            )
        else:
            seen.add(row_id)
            ids.append(row_id)
    return ids, failed


def batch_create(
    *,
    project: Project,
    name: str,
    global_keys: list | None = None,
    data_rows: list | None = None,
    priority: int | None = None,
    consensus_settings: dict | None = None,
    user=None,
    dataset=None,
    version=None,
) -> tuple[Batch | None, list[dict]]:
    """Create a batch of rows not yet in the project; returns (batch, failed rows). If every
    row fails, no batch is left behind (batch None)."""
    name = (name or "").strip()
    if not name:
        raise Invalid("A batch needs a name.", field="name")
    priority = validate_int32(priority, field="priority")
    consensus = consensus_validate(consensus_settings)
    ids, failed = _resolve_rows(global_keys=global_keys, data_rows=data_rows)
    try:
        with transaction.atomic():
            if Batch.objects.filter(project=project, name=name).exists():
                raise Conflict(f"The project already has a batch named {name!r}.", field="name")
            batch = Batch.objects.create(
                project=project,
                name=name,
                priority=priority,
                consensus_settings=consensus,
                created_by=user if user and user.pk else None,
                dataset=dataset,
                version=version,
            )
            taken = set()
            for start in range(0, len(ids), 10_000):
                taken.update(
                    QueueEntry.objects.filter(
                        project=project, data_row_id__in=ids[start : start + 10_000]
                    ).values_list("data_row_id", flat=True)
                )
            keys = dict(DataRow.objects.filter(pk__in=taken).values_list("id", "global_key"))
            failed += [
                {"data_row": rid, "global_key": keys.get(rid), "reason": "already in this project"}
                for rid in ids
                if rid in taken
            ]
            sort = NO_PRIORITY_SORT if priority is None else priority
            entries = [
                QueueEntry(
                    project=project,
                    batch=batch,
                    data_row_id=rid,
                    sort_priority=sort,
                    labels_required=consensus["number_of_labels"]
                    if consensus
                    and consensus_covers(
                        batch_id=batch.pk,
                        data_row_id=rid,
                        coverage=consensus["coverage_percentage"],
                    )
                    else 1,
                )
                for rid in ids
                if rid not in taken
            ]
            if not entries:
                transaction.set_rollback(True)
                return None, failed
            QueueEntry.objects.bulk_create(entries, batch_size=5000)
            batch.size = len(entries)
            batch.save(update_fields=["size"])
    except IntegrityError as exc:
        # A concurrent writer won the name or the rows between our checks and our insert.
        raise Conflict(
            "Another change to this project's batches happened at the same time; try again."
        ) from exc
    return batch, failed


@transaction.atomic
def label_create(*, entry: QueueEntry, author, annotation: dict) -> Label:
    """Record `author`'s label for the entry's row; the entry is done once it has enough."""
    entry = QueueEntry.objects.select_for_update().get(pk=entry.pk)
    if Label.objects.filter(
        project_id=entry.project_id, data_row_id=entry.data_row_id, author=author
    ).exists():
        raise Conflict("You have already labelled this row.")
    if entry.labels_count >= entry.labels_required:
        raise Conflict("This row already has all the labels it needs.")
    label = Label.objects.create(
        project_id=entry.project_id,
        batch_id=entry.batch_id,
        data_row_id=entry.data_row_id,
        author=author,
        annotation=annotation,
    )
    done = entry.labels_count + 1 >= entry.labels_required
    QueueEntry.objects.filter(pk=entry.pk).update(
        labels_count=F("labels_count") + 1,
        state=QueueEntry.State.DONE if done else QueueEntry.State.QUEUED,
        reserved_by=None,
        reserved_until=None,
    )
    return label
