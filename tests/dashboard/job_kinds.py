"""Job kinds used only by the tests: a chunked counter with failing rows, a crash and a cancel.

Imported by the tests that use them (in-process runs only; the real-worker test uses a product
job kind).
"""

from dashboard.jobs.registry import job_kind
from dashboard.jobs.runner import JobFailed, JobRun
from dashboard.models import Job

# Each entry is one call of the handler: what it processed. Lets tests see a resumed run.
CALLS: list[list[int]] = []


class WorkerDied(BaseException):
    """Stands in for SIGKILL: not an Exception, so the runner cannot record it."""


@job_kind("test_count", label="Count items in chunks (tests)")
def count_items(run: JobRun) -> dict:
    items = run.params["items"]
    chunk_size = run.params.get("chunk", 2)
    start = run.checkpoint.get("next", 0)
    run.set_total(len(items))
    seen = []
    CALLS.append(seen)
    for offset in range(start, len(items), chunk_size):
        if len(seen) // chunk_size == run.params.get("fail_after_chunks", -1):
            raise JobFailed("Stopped on purpose after a few chunks.")
        if offset in run.params.get("die_at", []) and run.job.attempts == 1:
            raise WorkerDied
        if offset in run.params.get("cancel_at", []):
            Job.objects.filter(pk=run.job.pk).update(cancel_requested=True)
        with run.chunk() as chunk:
            for index in range(offset, min(offset + chunk_size, len(items))):
                item = items[index]
                if not isinstance(item, int):
                    chunk.error(index=index, key=str(item), input=item, message="not a number")
                else:
                    chunk.count("created")
                seen.append(index)
            chunk.done = min(offset + chunk_size, len(items)) - offset
            chunk.checkpoint = {"next": offset + chunk_size}
    return {"total": sum(i for i in items if isinstance(i, int))}


@job_kind("test_boom", label="Always fails (tests)")
def boom(run: JobRun) -> None:
    raise RuntimeError("boom")
