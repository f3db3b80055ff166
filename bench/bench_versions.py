"""Benchmark the dataset versions (copy-on-write): figures printed, nothing asserted.

- add N frames (BENCH_FRAMES, default 200,000) to a draft: frames/s
- snapshot a 1,000-frame draft and an N-frame draft: both times and their ratio (goal ≤ 1.5)
- iterate a version 10 generations deep, 1 % of frames changed per generation, against
  iterating the root: rows/s for both (goal ≥ 0.5× the root)
- diff two versions that differ in 1,000 frames
- recount statistics as a job (the chunked, checkpointed job runner)

PostgreSQL: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelops_bench make bench
"""

import os
import random

from harness import bench_database, timed

FRAMES = int(os.environ.get("BENCH_FRAMES", "200000"))
GENERATIONS = 10
ADD_CHUNK = 10_000


def frame(i: int, tag: str = "") -> dict:
    return {
        "id": f"fr-{i:08d}",
        "sources": [{"id": "default", "uri": f"s3://bench/img/{i:08d}.jpg"}],
        "meta": {"split": "train" if i % 5 else "val", "tag": tag},
        "rois": [{"label": ["car" if i % 2 else "person"], "confidence": 0.9}],
    }


def add(version, ids) -> None:
    from versions.services import frames_add

    for start in range(0, len(ids), ADD_CHUNK):
        frames_add(version=version, frames=[frame(i) for i in ids[start : start + ADD_CHUNK]])


def iterate(version) -> int:
    from versions.copy_on_write import iter_frame_contents

    return sum(1 for _ in iter_frame_contents(version))


def main() -> None:
    from django.db import transaction

    from dashboard.jobs.services import job_create
    from dashboard.models import Job
    from versions.selectors import version_diff
    from versions.services import (
        dataset_create,
        frames_add,
        version_create,
        version_publish,
        version_snapshot,
    )

    with bench_database("versions"):
        big, _ = dataset_create(name="big")
        root, _ = version_create(dataset=big, name="root")
        seconds, _ = timed(lambda: add(root, list(range(FRAMES))))
        print(f"add {FRAMES:,} frames: {seconds:.1f} s, {FRAMES / seconds:,.0f} frames/s")

        small, _ = dataset_create(name="small")
        small_root, _ = version_create(dataset=small, name="root")
        frames_add(version=small_root, frames=[frame(i) for i in range(1000)])
        t_small, _ = timed(lambda: version_snapshot(version=small_root))
        t_big, child = timed(lambda: version_snapshot(version=root))
        print(
            f"snapshot of 1,000 frames: {t_small * 1000:.1f} ms; of {FRAMES:,} frames: "
            f"{t_big * 1000:.1f} ms; ratio {t_big / t_small:.2f} (goal ≤ 1.5)"
        )

        root = type(root).objects.get(pk=root.pk)
        t_root, n_root = timed(lambda: iterate(root))
        rng = random.Random(7)
        version = child
        for generation in range(GENERATIONS):
            changed = rng.sample(range(FRAMES), FRAMES // 100)
            frames_add(version=version, frames=[frame(i, tag=f"g{generation}") for i in changed])
            version = version_publish(version=version)
            version, _ = version_create(dataset=big, name=f"gen{generation + 1}", parent=version)
        t_deep, n_deep = timed(lambda: iterate(version))
        print(
            f"iterate root: {n_root:,} rows, {n_root / t_root:,.0f} rows/s; "
            f"{GENERATIONS + 1} generations deep: {n_deep:,} rows, {n_deep / t_deep:,.0f} rows/s"
            f" ({(n_deep / t_deep) / (n_root / t_root):.2f}× the root, goal ≥ 0.5)"
        )

        base = version_publish(version=version)
        other, _ = version_create(dataset=big, name="diffed", parent=base)
        frames_add(version=other, frames=[frame(i, tag="diff") for i in range(0, 2000, 2)])
        t_diff, diff = timed(lambda: version_diff(newer=other, older=base, limit=1000))
        print(
            f"diff of versions differing in 1,000 frames: {t_diff * 1000:.1f} ms "
            f"(counts {diff['counts']})"
        )
        t_deep_diff, deep = timed(lambda: version_diff(newer=other, older=root, limit=1000))
        print(
            f"diff across {GENERATIONS + 2} generations: {t_deep_diff * 1000:.1f} ms "
            f"(counts {deep['counts']})"
        )

        def recount():
            with transaction.atomic():
                job = job_create(kind="recount_stats", params={"version_id": other.pk})
            return Job.objects.get(pk=job.pk)

        t_job, job = timed(recount)
        print(
            f"recount_stats job over {job.progress_done:,} frames: {t_job:.1f} s, "
            f"{job.progress_done / t_job:,.0f} frames/s ({job.status})"
        )


if __name__ == "__main__":
    main()
