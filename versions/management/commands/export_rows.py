"""`manage.py export_rows --dataset ID | --version-id ID [--frames] --format ndjson -o FILE`:
a streamed export with a terminal progress bar and a summary."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from dashboard.errors import ApplicationError


class Command(BaseCommand):
    help = "Export data rows (or a version's frames) as CSV, JSON or NDJSON."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--dataset", help="dataset id: its current version")
        target.add_argument("--version-id", help="version id")
        parser.add_argument("--frames", action="store_true", help="export frames")
        parser.add_argument("--format", choices=["csv", "json", "ndjson"], default="ndjson")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        from versions.bulk.export import rows_export
        from versions.selectors import (
            dataset_get,
            entries_count,
            version_for_reading,
            version_get,
        )

        record_type = "frames" if options["frames"] else "data_rows"
        try:
            if options["dataset"]:
                version = version_for_reading(dataset=dataset_get(dataset_id=options["dataset"]))
            else:
                version = version_get(version_id=options["version_id"])
            fmt, pieces = rows_export(
                version=version, record_type=record_type, format=options["format"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        total = entries_count(version) if version is not None else 0
        out = open(options["output"], "w", encoding="utf-8") if options["output"] else sys.stdout
        bar = self.stderr
        written = 0
        start = time.monotonic()
        try:
            for piece in pieces:
                out.write(piece)
                written += piece.count("\n")
                done = min(written, total)
                filled = int(30 * done / total) if total else 30
                bar.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,}")
        finally:
            if out is not sys.stdout:
                out.close()
        seconds = time.monotonic() - start
        bar.write(
            f"\nexported {total:,} {record_type.replace('_', ' ')} as {fmt} in {seconds:.1f} s\n"
        )
