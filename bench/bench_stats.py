"""Benchmark statistics kept current by every write (issue 16, issue 14 bug 3): figures
printed, nothing asserted.

- add 1,000 frames and delete 1,000 frames in a 1,000-frame version and in an N-frame version
  (BENCH_FRAMES, default 100,000): the cost of a write, counts included, should not grow with
  the version's size
- the part of a 1,000-frame add spent on the counts (the delta and its one-row update)
- a full recount of the N-frame version, for scale (what a write no longer does)

PostgreSQL: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelops_bench \
    .venv/bin/python bench/bench_stats.py
"""

import os

from harness import bench_database, timed

FRAMES = int(os.environ.get("BENCH_FRAMES", "100000"))
CHUNK = 10_000
WRITE = 1000


def frame(i: int, label: str = "car", prefix: str = "fr") -> dict:
    return {
        "id": f"{prefix}-{i:08d}",
        "sources": [{"id": "default", "uri": f"s3://bench/img/{i:08d}.jpg"}],
        "meta": {"split": "train" if i % 5 else "val"},
        "rois": [{"label": [label if i % 2 else "person"], "confidence": 0.9}],
    }


def main() -> None:
    from versions.bulk import writes
    from versions.services import dataset_create, frames_add, frames_delete, version_create
    from versions.stats import version_stats_compute

    with bench_database("stats"):
        versions = {}
        for size in (1000, FRAMES):
            dataset, _ = dataset_create(name=f"d{size}")
            version, _ = version_create(dataset=dataset, name="root")
            for start in range(0, size, CHUNK):
                stop = min(size, start + CHUNK)
                frames_add(
                    version=version,
                    frames=[frame(i, prefix=f"d{size}") for i in range(start, stop)],
                )
            versions[size] = version

        spent = {"stats": 0.0}
        real_apply = writes.stats_apply

        def counted_apply(version_id, delta):
            seconds, _ = timed(lambda: real_apply(version_id, delta))
            spent["stats"] += seconds

        writes.stats_apply = counted_apply
        try:
            for size, version in versions.items():
                # Overwrite 500 frames (their labels change) and add 500 new ones.
                ids = [*range(0, WRITE, 2), *range(size, size + WRITE // 2)]
                spent["stats"] = 0.0
                t_add, _ = timed(
                    lambda v=version, ids=ids, p=f"d{size}": frames_add(
                        version=v, frames=[frame(i, "bike", p) for i in ids]
                    )
                )
                t_apply = spent["stats"]
                doomed = [
                    f"d{size}-{i:08d}"
                    for i in [*range(1, WRITE, 2), *range(size, size + WRITE // 2)]
                ]
                t_delete, _ = timed(lambda v=version, d=doomed: frames_delete(version=v, ids=d))
                version.refresh_from_db()
                print(
                    f"version of {size:,} frames: add/overwrite {WRITE:,} frames "
                    f"{t_add * 1000:.0f} ms (counts' update {t_apply * 1000:.1f} ms), delete "
                    f"{WRITE:,} {t_delete * 1000:.0f} ms; frame_count now "
                    f"{version.stats['frame_count']:,}"
                )
        finally:
            writes.stats_apply = real_apply

        big = versions[FRAMES]
        t_recount, counted = timed(lambda: version_stats_compute(big))
        exact = {k: counted[k] for k in ("frame_count", "source_count", "label_counts")}
        kept = {k: big.stats[k] for k in exact}
        print(
            f"full recount of {FRAMES:,} frames: {t_recount:.2f} s (no write does it now); "
            f"kept counts {'equal' if kept == exact else 'DIFFER from'} the recount"
        )


if __name__ == "__main__":
    main()
