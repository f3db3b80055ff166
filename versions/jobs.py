"""Job kinds of the versions app."""

from __future__ import annotations

from collections import Counter

from django.utils import timezone

from dashboard.jobs.registry import job_kind
from dashboard.jobs.runner import JobRun

from .copy_on_write import effective_entries
from .models import DatasetVersion
from .selectors import version_get

RECOUNT_CHUNK = 500


@job_kind("recount_stats", label="Recount version statistics")
def recount_stats(run: JobRun) -> dict:
    """Recount a version's statistics (frames, sources, labels per class) in resumable chunks.

    The partial counts travel in the checkpoint, so a retried task resumes after the last
    committed chunk. A frame whose stored content is malformed is reported as a failed row.
    """
    version = version_get(version_id=run.params["version_id"])
    entries = effective_entries(version).order_by("data_row_id")
    state = run.checkpoint or {"after": "", "index": 0, "frames": 0, "sources": 0, "labels": {}}
    if run.job.progress_total is None:
        run.set_total(entries.count())
    while True:
        rows = list(
            entries.filter(data_row_id__gt=state["after"]).values_list(
                "data_row_id", "revision__content"
            )[:RECOUNT_CHUNK]
        )
        if not rows:
            break
        with run.chunk() as chunk:
            labels = Counter(state["labels"])
            for data_row_id, content in rows:
                try:
                    sources = len(content["sources"])
                    frame_labels = [
                        name for roi in content.get("rois", []) for name in roi["label"]
                    ]
                except (KeyError, TypeError) as exc:
                    chunk.error(
                        index=state["index"],
                        key=data_row_id,
                        input=content,
                        message=f"Malformed frame content: {type(exc).__name__} {exc}",
                        error_type="content",
                    )
                else:
                    state["frames"] += 1
                    state["sources"] += sources
                    labels.update(frame_labels)
                state["index"] += 1
            state["labels"] = dict(labels)
            state["after"] = rows[-1][0]
            chunk.done = len(rows)
            chunk.checkpoint = dict(state)
    stats = {
        "frame_count": state["frames"],
        "source_count": state["sources"],
        "label_counts": state["labels"],
        "last_updated": version.updated_at.isoformat(),
        "computed_at": timezone.now().isoformat(),
    }
    # Statistics are a cache: writing them must not touch updated_at ("last change" of frames).
    DatasetVersion.objects.filter(pk=version.pk).update(stats=stats)
    return {"version_id": version.pk, "stats": stats}
