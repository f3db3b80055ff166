"""The overview page's figures. Apps register their own counts here (dependency inversion:
`dashboard` never imports an app)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class OverviewCount:
    label: str
    count: Callable[[], int]
    url_name: str | None = None
    order: int = 100


_COUNTS: list[OverviewCount] = []


def overview_count_register(
    *, label: str, count: Callable[[], int], url_name: str | None = None, order: int = 100
) -> None:
    if any(c.label == label for c in _COUNTS):
        return
    _COUNTS.append(OverviewCount(label=label, count=count, url_name=url_name, order=order))


def overview_counts() -> list[dict]:
    return [
        {"label": c.label, "value": c.count(), "url_name": c.url_name}
        for c in sorted(_COUNTS, key=lambda c: c.order)
    ]
