"""Benchmark: frames added per second, branching cost (must not grow with the version's size),
and the job runner's throughput on a chunked, checkpointed job (recount_stats).

BENCH_SIZES=1000,50000 by default; BENCH_DATABASE_URL for PostgreSQL (see harness.py).
"""

import os

from harness import bench_database, timed

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,50000").split(",")]


def bench_size(size: int) -> None:
    from django.db import transaction

    from dashboard.jobs.services import job_create
    from dashboard.models import Job
    from versions.services import dataset_create, frames_add, version_create, version_publish

    dataset, _ = dataset_create(name=f"bench-{size}")
    root, _ = version_create(dataset=dataset, name="root")
    frames = [
        {
            "id": f"r{size}-{i:07d}",
            "sources": [{"uri": f"s3://bench/{size}/{i}.jpg"}],
            "meta": {"split": "train" if i % 5 else "val"},
            "rois": [{"label": ["car" if i % 2 else "person"], "confidence": 0.9}],
        }
        for i in range(size)
    ]
    chunk = 5000

    def add_all():
        for start in range(0, size, chunk):
            frames_add(version=root, frames=frames[start : start + chunk])

    add_s, _ = timed(add_all)
    root = version_publish(version=root)
    branch_s, child = timed(lambda: version_create(dataset=dataset, name="child", parent=root)[0])

    def recount():
        with transaction.atomic():
            job = job_create(kind="recount_stats", params={"version_id": child.pk})
        return Job.objects.get(pk=job.pk)

    recount_s, job = timed(recount)
    print(
        f"{size:>8} frames: add {size / add_s:>9,.0f} frames/s | branch "
        f"{branch_s * 1000:6.1f} ms | recount job {job.status} "
        f"{size / recount_s:>9,.0f} frames/s (through the parent chain)"
    )


def main() -> None:
    with bench_database("versions"):
        for size in SIZES:
            bench_size(size)


if __name__ == "__main__":
    main()
