"""Version statistics: frame count, source count, label counts per label, last update.

One accumulator serves the synchronous commit and the resumable `recount_stats` job.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .copy_on_write import iter_frame_contents
from .models import DatasetVersion


def stats_start() -> dict[str, Any]:
    return {"frame_count": 0, "source_count": 0, "label_counts": {}}


def stats_add(state: dict[str, Any], contents: list[dict]) -> list[tuple[int, str]]:
    """Fold frame contents into `state`; returns (position, reason) of malformed ones."""
    labels = Counter(state["label_counts"])
    problems = []
    for position, content in enumerate(contents):
        try:
            sources = len(content["sources"])
            names = [name for roi in content.get("rois") or [] for name in roi["label"]]
        except (KeyError, TypeError) as exc:
            problems.append((position, f"Malformed frame content: {type(exc).__name__} {exc}"))
            continue
        state["frame_count"] += 1
        state["source_count"] += sources
        labels.update(names)
    state["label_counts"] = dict(sorted(labels.items()))
    return problems


def stats_finish(state: dict[str, Any], version: DatasetVersion) -> dict[str, Any]:
    return {**state, "last_updated": version.updated_at.isoformat()}


def version_stats_compute(version: DatasetVersion) -> dict[str, Any]:
    """Stream the version's frames once (memory flat) and count."""
    state = stats_start()
    batch: list[dict] = []
    for _, content in iter_frame_contents(version):
        batch.append(content)
        if len(batch) >= 5000:
            stats_add(state, batch)
            batch.clear()
    stats_add(state, batch)
    return stats_finish(state, version)
