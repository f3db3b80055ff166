"""`manage.py import_rows FILE --dataset ID | --version-id ID [--frames]`: a bulk import with a
terminal progress bar and a summary of counts and errors. Same options as the API."""

from __future__ import annotations

import sys
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from dashboard.errors import ApplicationError
from dashboard.jobs.runner import run_job
from dashboard.models import COUNT_KEYS, Job


def progress_bar(job: Job, width: int = 30) -> str:
    total = job.progress_total
    done = job.progress_done
    if not total:
        return f"[{'.' * width}] {done:,} {job.status}"
    filled = int(width * min(done, total) / total)
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"
        f" {100 * done // total:3d}% {job.status}"
    )


def follow(job_id: str, stream, *, worker: threading.Thread | None = None) -> Job:
    """Redraw the bar until the job ends (and the in-process worker, if any, returns)."""
    while True:
        job = Job.objects.get(pk=job_id)
        stream.write("\r" + progress_bar(job))
        stream.flush()
        if job.is_ended and (worker is None or not worker.is_alive()):
            stream.write("\n")
            return job
        time.sleep(0.3)


def summary(job: Job, stream, *, max_errors: int = 20) -> None:
    counts = ", ".join(f"{k} {job.counts.get(k, 0):,}" for k in COUNT_KEYS)
    stream.write(f"job {job.pk} {job.status}: {counts}\n")
    if job.error:
        stream.write(f"  {job.error}\n")
    for error in job.row_errors.order_by("index", "id")[:max_errors]:
        stream.write(f"  record {error.index} {error.key or ''}: {error.message}\n")
    if job.errors_count > max_errors:
        stream.write(f"  … {job.errors_count - max_errors:,} more (see the job page)\n")


def run_and_follow(job: Job, *, background: bool, stream) -> Job:
    """Run the job in a thread of this process (or leave it to the workers) and draw a bar."""
    worker = None
    if not background:

        def work():
            try:
                run_job(job.pk)
            finally:
                connection.close()

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
    return follow(job.pk, stream, worker=worker)


class Command(BaseCommand):
    help = "Import data rows (or a version's frames) from a CSV, JSON or NDJSON file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--dataset", help="dataset id: writes its current draft")
        target.add_argument("--version-id", help="version id (a draft)")
        parser.add_argument("--frames", action="store_true", help="records are frames")
        parser.add_argument("--format", choices=["csv", "json", "ndjson"])
        parser.add_argument("--mode", choices=["create", "upsert", "sync"], default="upsert")
        parser.add_argument("--key", choices=["global_key", "id"])
        parser.add_argument("--on-error", choices=["continue", "atomic"], default="continue")
        parser.add_argument("--unknown", choices=["reject", "ignore"], default="reject")
        parser.add_argument(
            "--background", action="store_true", help="let the qcluster workers run it"
        )

    def handle(self, *args, **options):
        from versions.bulk.start import rows_import_start
        from versions.selectors import dataset_get, version_get

        if options["dataset"] and options["frames"]:
            raise CommandError("--frames needs --version-id.")
        try:
            if options["dataset"]:
                target = {"dataset": dataset_get(dataset_id=options["dataset"])}
            else:
                target = {"version": version_get(version_id=options["version_id"])}
            job = rows_import_start(
                record_type="frames" if options["frames"] else "data_rows",
                **target,
                local_path=options["file"],
                format=options["format"],
                mode=options["mode"],
                key=options["key"],
                on_error=options["on_error"],
                unknown=options["unknown"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.field + ': ' if exc.field else ''}{exc.message}") from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
        job = run_and_follow(job, background=options["background"], stream=self.stdout)
        summary(job, self.stdout)
        if job.status != Job.Status.SUCCEEDED:
            sys.exit(1)
