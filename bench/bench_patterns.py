"""Benchmark `?source=` URI patterns: a viewer's pattern must never stall the server.

Over N frames (BENCH_PATTERN_FRAMES, default 100,000), in a root version and in a child that
changes 1 % of them (the copy-on-write read), time one page of `frames_page(source=…)` for:
a pattern of 1,000 stars, 1,000 stars then a letter no URI ends with (every frame is read),
`*a` 500 times then that letter (the backtracking worst case of a regexp), and an ordinary
prefix. Goal: each well under a second; the run fails (exit 1) above LIMIT_SECONDS.

PostgreSQL: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelops_bench make bench
"""

import os
import sys

from harness import bench_database, timed

FRAMES = int(os.environ.get("BENCH_PATTERN_FRAMES", "100000"))
LIMIT_SECONDS = 1.0
ADD_CHUNK = 10_000

PATTERNS = {
    "1,000 stars": "*" * 1000,
    "1,000 stars + Z (no match)": "*" * 1000 + "Z",
    "*a x 500 + Z (no match)": "*a" * 500 + "Z",
    "s3://bench/img/0009*": "s3://bench/img/0009*",
}


def frame(i: int) -> dict:
    return {
        "id": f"fr-{i:08d}",
        "sources": [
            {"id": "default", "uri": f"s3://bench/img/{i:08d}.jpg"},
            {"id": "mask", "uri": f"s3://bench/aaaa/aaaa/{i:08d}.png"},
        ],
        "meta": {"split": "train" if i % 5 else "val"},
    }


def main() -> int:
    from versions.selectors import frames_page
    from versions.services import dataset_create, frames_add, version_create, version_publish

    slow = []
    with bench_database("patterns"):
        dataset, _ = dataset_create(name="patterns")
        root, _ = version_create(dataset=dataset, name="root")
        seconds, _ = timed(
            lambda: [
                frames_add(version=root, frames=[frame(i) for i in range(s, s + ADD_CHUNK)])
                for s in range(0, FRAMES, ADD_CHUNK)
            ]
        )
        print(f"  {FRAMES:,} frames added in {seconds:.1f} s")
        root = version_publish(version=root)
        child, _ = version_create(dataset=dataset, name="child", parent=root)
        frames_add(version=child, frames=[frame(i) for i in range(0, FRAMES, 100)])
        for label, version in (("root", root), ("child (1 % changed)", child)):
            for name, pattern in PATTERNS.items():
                seconds, (frames, _) = timed(
                    lambda v=version, p=pattern: frames_page(version=v, source=p, limit=100)
                )
                verdict = "ok" if seconds < LIMIT_SECONDS else "SLOW"
                print(f"  {label:20} {name:28} {len(frames):4} frames  {seconds:.3f} s  {verdict}")
                if verdict != "ok":
                    slow.append((label, name, seconds))
    if slow:
        print(f"patterns slower than {LIMIT_SECONDS} s: {slow}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
