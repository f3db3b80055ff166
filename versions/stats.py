"""Version statistics: frame count, source count, label counts per label, last update.

Kept current by every write: the set-based writer folds what it adds and removes into a
`StatsDelta` and applies it in the same transaction (`stats_apply`), so a version's counts are
exact right after any import, add, update or delete, at a cost proportional to the change. One
accumulator serves the full recount (the synchronous commit and the resumable `recount_stats`
job), which repairs counts a hand edit in the admin may have put out of step.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.utils import timezone

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


# ---------------------------------------------------------------- kept current by every write


def stats_empty() -> dict[str, Any]:
    """The statistics of a version without frames."""
    return {**stats_start(), "last_updated": timezone.now().isoformat()}


class StatsDelta:
    """What one set-based write changes in a version's statistics: frames added (`add`) and
    removed (`remove`, the content a write replaces or deletes). Malformed content counts as
    `stats_add` counts it (not at all)."""

    def __init__(self) -> None:
        self.frames = 0
        self.sources = 0
        self.labels: Counter = Counter()

    def _fold(self, content: Any, sign: int) -> None:
        try:
            sources = len(content["sources"])
            names = [name for roi in content.get("rois") or [] for name in roi["label"]]
        except (KeyError, TypeError):
            return
        self.frames += sign
        self.sources += sign * sources
        for name in names:
            self.labels[name] += sign

    def add(self, content: Any) -> None:
        self._fold(content, 1)

    def remove(self, content: Any) -> None:
        self._fold(content, -1)

    def __bool__(self) -> bool:
        return bool(self.frames or self.sources or any(self.labels.values()))


def stats_apply(version_id: str, delta: StatsDelta) -> None:
    """Add `delta` to the version's statistics: call in the write's transaction, holding the
    version's row lock (every writer does: `version_lock_draft`), so the counts change with the
    frames and never drift. O(labels), whatever the version's size."""
    stats = DatasetVersion.objects.filter(pk=version_id).values_list("stats", flat=True).first()
    stats = {**stats_start(), **(stats or {})}
    labels = Counter(stats["label_counts"])
    labels.update(delta.labels)  # Counter.update adds (negative counts subtract)
    stats["frame_count"] += delta.frames
    stats["source_count"] += delta.sources
    stats["label_counts"] = {k: n for k, n in sorted(labels.items()) if n > 0}
    stats["last_updated"] = timezone.now().isoformat()
    # A cache of the frames: writing it must not touch updated_at on its own.
    DatasetVersion.objects.filter(pk=version_id).update(stats=stats)
