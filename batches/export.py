"""NDJSON export of the data rows of one or more batches: one JSON object per row, produced a
window at a time (keyset paging on the queue entry id), so memory stays flat at any size.

Line: `{"data_row": {"id", "global_key", "row_data", "details"?}, "metadata_fields"?,
"attachments"?, "batch": {"id", "name"}, "labels"?: […]}`. Metadata and attachments are the
frame's `meta` and `attachments` in the batch's version, else the dataset's current version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dashboard.errors import Invalid
from versions.copy_on_write import nearest_contents, version_chain
from versions.models import Dataset, DatasetVersion
from versions.selectors import version_for_reading

from .models import Batch, Label, Project, QueueEntry

WINDOW = 2000
SWITCHES = ("attachments", "metadata_fields", "data_row_details", "labels")


@dataclass
class ExportOptions:
    project: Project
    batch_ids: list[str]
    attachments: bool = False
    metadata_fields: bool = False
    data_row_details: bool = False
    labels: bool = False
    batch_names: dict[str, str] = field(default_factory=dict)

    def as_params(self) -> dict[str, Any]:
        return {
            "project_id": self.project.pk,
            "batch_ids": self.batch_ids,
            **{name: getattr(self, name) for name in SWITCHES},
        }


def _switch(value: Any, *, name: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    raise Invalid("Must be true or false.", field=name)


def export_options(*, project: Project, batch_ids: Any = None, **switches: Any) -> ExportOptions:
    """Validate the export's input. No batch ids means every batch of the project."""
    unknown = set(switches) - set(SWITCHES)
    if unknown:
        raise Invalid(f"Unknown option {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    if isinstance(batch_ids, str):
        batch_ids = [b for b in (part.strip() for part in batch_ids.split(",")) if b]
    names = dict(Batch.objects.filter(project=project).values_list("id", "name"))
    if batch_ids in (None, []):
        batch_ids = list(names)
    if not isinstance(batch_ids, list) or not all(isinstance(b, str) for b in batch_ids):
        raise Invalid("Must be a list of batch ids.", field="batch_ids")
    missing = [b for b in batch_ids if b not in names]
    if missing:
        raise Invalid(f"Not batches of this project: {', '.join(missing[:5])}.", field="batch_ids")
    return ExportOptions(
        project=project,
        batch_ids=list(dict.fromkeys(batch_ids)),
        batch_names={b: names[b] for b in batch_ids},
        **{name: _switch(switches.get(name), name=name) for name in SWITCHES},
    )


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class _Contents:
    """Frame content per data row, read through the right version's copy-on-write chain."""

    def __init__(self) -> None:
        self._current: dict[str, str | None] = {}
        self._chains: dict[str, list[str]] = {}

    def current_version_id(self, dataset_id: str) -> str | None:
        if dataset_id not in self._current:
            # The data-row view's rule (current draft, else newest published), in one place.
            chosen = version_for_reading(dataset=Dataset(pk=dataset_id))
            self._current[dataset_id] = chosen.pk if chosen else None
        return self._current[dataset_id]

    def chain(self, version_id: str) -> list[str]:
        if version_id not in self._chains:
            version = DatasetVersion.objects.filter(pk=version_id).first()
            self._chains[version_id] = version_chain(version) if version else []
        return self._chains[version_id]

    def read(self, wanted: dict[str, list[str]]) -> dict[str, dict]:
        """{version_id: [data_row_id]} → {data_row_id: content} (nearest entry wins)."""
        found: dict[str, dict] = {}
        for version_id, ids in wanted.items():
            chain = self.chain(version_id)
            if chain:
                found.update(nearest_contents(chain, ids))
        return found


def export_lines(options: ExportOptions) -> Iterator[str]:
    """The export, one NDJSON line (with its newline) at a time."""
    contents = _Contents()
    need_content = options.attachments or options.metadata_fields
    after = 0
    entries = QueueEntry.objects.filter(batch_id__in=options.batch_ids).order_by("id")
    while True:
        window = list(
            # Plain rows, not model instances: half the cost per exported line.
            entries.filter(id__gt=after).values_list(
                "id",
                "batch_id",
                "state",
                "labels_count",
                "labels_required",
                "priority_override",
                "data_row_id",
                "data_row__global_key",
                "data_row__row_data",
                "data_row__dataset_id",
                "data_row__created_at",
                "data_row__updated_at",
                named=True,
            )[:WINDOW]
        )
        if not window:
            return
        after = window[-1].id
        row_ids = [e.data_row_id for e in window]
        content: dict[str, dict] = {}
        if need_content:
            wanted: dict[str, list[str]] = {}
            versions = dict(
                Batch.objects.filter(pk__in={e.batch_id for e in window}).values_list(
                    "id", "version_id"
                )
            )
            for e in window:
                vid = versions.get(e.batch_id) or contents.current_version_id(
                    e.data_row__dataset_id
                )
                if vid:
                    wanted.setdefault(vid, []).append(e.data_row_id)
            content = contents.read(wanted)
        labels: dict[str, list] = {}
        if options.labels:
            for label in (
                Label.objects.filter(project=options.project, data_row_id__in=row_ids)
                .select_related("author")
                .order_by("id")
            ):
                labels.setdefault(label.data_row_id, []).append(
                    {
                        "id": label.pk,
                        "author": label.author.get_username(),
                        "annotation": label.annotation,
                        "status": label.status,
                        "created_at": _iso(label.created_at),
                    }
                )
        for e in window:
            data_row: dict[str, Any] = {
                "id": e.data_row_id,
                "global_key": e.data_row__global_key,
                "row_data": e.data_row__row_data,
            }
            if options.data_row_details:
                data_row["details"] = {
                    "dataset": e.data_row__dataset_id,
                    "created_at": _iso(e.data_row__created_at),
                    "updated_at": _iso(e.data_row__updated_at),
                    "queue_state": e.state,
                    "labels_count": e.labels_count,
                    "labels_required": e.labels_required,
                    "priority_override": e.priority_override,
                }
            line: dict[str, Any] = {"data_row": data_row}
            frame = content.get(e.data_row_id) or {}
            if options.metadata_fields:
                line["metadata_fields"] = frame.get("meta") or {}
            if options.attachments:
                line["attachments"] = frame.get("attachments") or []
            line["batch"] = {"id": e.batch_id, "name": options.batch_names.get(e.batch_id)}
            if options.labels:
                line["labels"] = labels.get(e.data_row_id, [])
            yield json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"


def export_count(options: ExportOptions) -> int:
    return QueueEntry.objects.filter(batch_id__in=options.batch_ids).count()
