"""Job kinds of the versions app."""

from __future__ import annotations

from itertools import islice

from django.db import transaction
from django.utils import timezone

from dashboard.jobs.registry import job_kind
from dashboard.jobs.runner import JobRun

from .copy_on_write import effective_entries, iter_frame_contents
from .models import DatasetVersion
from .selectors import version_get
from .stats import stats_add, stats_finish, stats_start

RECOUNT_CHUNK = 2000


@job_kind("recount_stats", label="Recount version statistics")
def recount_stats(run: JobRun) -> dict:
    """Recount a version's statistics in resumable chunks (a repair: every write keeps them
    current). A count during which the frames changed is not stored.

    The partial counts travel in the checkpoint, so a retried task resumes after the last
    committed chunk. A frame whose stored content is malformed is reported as a failed row.
    """
    version = version_get(version_id=run.params["version_id"])
    state = run.checkpoint or {
        "after": "",
        "index": 0,
        "stats": stats_start(),
        "since": version.updated_at.isoformat(),
    }
    if run.job.progress_total is None:
        run.set_total(effective_entries(version).count())
    while True:
        rows = list(islice(iter_frame_contents(version, after=state["after"]), RECOUNT_CHUNK))
        if not rows:
            break
        with run.chunk() as chunk:
            for position, reason in stats_add(state["stats"], [c for _, c in rows]):
                data_row_id, content = rows[position]
                chunk.error(
                    index=state["index"] + position,
                    key=data_row_id,
                    input=content,
                    message=reason,
                    error_type="content",
                )
            state["index"] += len(rows)
            state["after"] = rows[-1][0]
            chunk.done = len(rows)
            chunk.checkpoint = dict(state)
    stats = {**stats_finish(state["stats"], version), "computed_at": timezone.now().isoformat()}
    with transaction.atomic():
        locked = DatasetVersion.objects.select_for_update().get(pk=version.pk)
        if locked.updated_at.isoformat() != state.get("since", locked.updated_at.isoformat()):
            # The frames changed while they were counted: this count is of no one moment, and
            # every write kept the stored statistics current anyway.
            return {"version_id": version.pk, "stats": locked.stats, "skipped": True}
        # A cache: writing it must not touch updated_at (the frames' last change).
        DatasetVersion.objects.filter(pk=version.pk).update(stats=stats)
    return {"version_id": version.pk, "stats": stats}


from .bulk import jobs as bulk_jobs  # noqa: E402,F401 - registers import, update_rows, delete_rows
