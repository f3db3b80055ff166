"""The similarity of two annotations (0–1), exactly as API.md's "Quality" section defines it,
and a row's agreement: pure functions, no database (agreement and gold scores use them).

- *classes*: Jaccard of the two `classes` sets (both empty → 1);
- *objects* (`[{class, bbox: [x, y, width, height]}]`): boxes of the same class are matched one
  to one, greedily by IoU, highest first (pairs with IoU 0 are not matched); score = sum of the
  matched IoUs / max(number of objects in a, in b) (both empty → 1);
- the similarity is the mean of the parts present in either annotation (a part is present when
  its key is in the annotation); neither present → 1 if the annotations are equal, else 0.

Annotations are checked loosely at the door (a JSON object whose `classes` is a list of
strings): anything else malformed here (an object without a usable box, a class that is not a
string) never raises — such an object counts in the number of objects but matches nothing.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from itertools import combinations
from typing import Any

PARTS = ("classes", "objects")


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def classes_similarity(a: Any, b: Any) -> float:
    """Jaccard of two `classes` lists as sets (both empty → 1)."""
    set_a = {c for c in _as_list(a) if isinstance(c, str)}
    set_b = {c for c in _as_list(b) if isinstance(c, str)}
    if not set_a and not set_b:
        return 1.0
    return len(set_a & set_b) / len(set_a | set_b)


def _box(obj: Any) -> tuple[float, float, float, float] | None:
    """(x1, y1, x2, y2) of an object's `bbox` [x, y, width, height], or None if unusable."""
    if not isinstance(obj, dict):
        return None
    bbox = obj.get("bbox")
    if not isinstance(bbox, list | tuple) or len(bbox) != 4:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox):
        return None
    x, y, w, h = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        return None
    return (x, y, x + w, y + h)


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _by_class(objects: list) -> dict[Any, list[tuple[float, float, float, float]]]:
    grouped: dict[Any, list] = defaultdict(list)
    for obj in objects:
        box = _box(obj)
        cls = obj.get("class") if isinstance(obj, dict) else None
        if box is not None and isinstance(cls, str):
            grouped[cls].append(box)
    return grouped


def _matched_iou_sum(boxes_a: list, boxes_b: list) -> float:
    """Greedy one-to-one matching of two box lists by IoU, highest first (IoU 0 never
    matches); ties broken by position, so the result is reproducible."""
    # Only pairs that overlap along x can have IoU > 0: sweep b sorted by its left edge.
    order = sorted(range(len(boxes_b)), key=lambda j: boxes_b[j][0])
    lefts = [boxes_b[j][0] for j in order]
    pairs = []
    for i, box_a in enumerate(boxes_a):
        # b boxes starting before a's right edge; those ending before a's left edge are skipped
        for k in range(bisect_left(lefts, box_a[2])):
            j = order[k]
            value = iou(box_a, boxes_b[j])
            if value > 0:
                pairs.append((-value, i, j))
    pairs.sort()
    used_a, used_b, total = set(), set(), 0.0
    for negative, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            total -= negative
    return total


def objects_similarity(a: Any, b: Any) -> float:
    """Sum of the matched IoUs / max(number of objects in a, in b) (both empty → 1)."""
    objects_a, objects_b = _as_list(a), _as_list(b)
    most = max(len(objects_a), len(objects_b))
    if most == 0:
        return 1.0
    grouped_a, grouped_b = _by_class(objects_a), _by_class(objects_b)
    total = sum(
        _matched_iou_sum(boxes, grouped_b[cls])
        for cls, boxes in grouped_a.items()
        if cls in grouped_b
    )
    return min(1.0, total / most)


def similarity(a: Any, b: Any) -> float:
    """The similarity of two annotations, 0–1 (see the module docstring)."""
    a = a if isinstance(a, dict) else {}
    b = b if isinstance(b, dict) else {}
    scores = []
    if "classes" in a or "classes" in b:
        scores.append(classes_similarity(a.get("classes"), b.get("classes")))
    if "objects" in a or "objects" in b:
        scores.append(objects_similarity(a.get("objects"), b.get("objects")))
    if not scores:
        return 1.0 if a == b else 0.0
    return sum(scores) / len(scores)


def agreement(annotations: list[Any]) -> float | None:
    """A row's agreement: the mean similarity over all pairs of its counted labels'
    annotations; None with fewer than two."""
    if len(annotations) < 2:
        return None
    pairs = list(combinations(annotations, 2))
    return sum(similarity(x, y) for x, y in pairs) / len(pairs)


HISTOGRAM_BUCKETS = 10


def histogram_bucket(value: float) -> int:
    """The 0.1-wide bucket (0–9) of an agreement; 1.0 falls in the last one. A hair of slack
    keeps 0.3 computed as 0.29999999999999993 in the bucket [0.3, 0.4)."""
    return min(HISTOGRAM_BUCKETS - 1, max(0, math.floor(value * HISTOGRAM_BUCKETS + 1e-9)))
