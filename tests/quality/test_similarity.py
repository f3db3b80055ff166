"""The similarity measure of API.md's "Quality" section on worked examples (pure functions)."""

import pytest

from batches.similarity import (
    agreement,
    classes_similarity,
    histogram_bucket,
    iou,
    objects_similarity,
    similarity,
)


def box(cls, x, y, w, h):
    return {"class": cls, "bbox": [x, y, w, h]}


def test_identical_annotations_are_1():
    a = {"classes": ["car", "person"], "objects": [box("car", 0, 0, 10, 10)]}
    assert similarity(a, dict(a)) == 1.0


def test_disjoint_boxes_are_0():
    a = {"objects": [box("car", 0, 0, 10, 10)]}
    b = {"objects": [box("car", 20, 20, 10, 10)]}
    assert similarity(a, b) == 0.0


def test_touching_boxes_have_iou_0():
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0


def test_half_overlapping_boxes():
    # Overlap 5×10 = 50; union 100 + 100 − 50 = 150 → IoU 1/3.
    a = {"objects": [box("car", 0, 0, 10, 10)]}
    b = {"objects": [box("car", 5, 0, 10, 10)]}
    assert similarity(a, b) == pytest.approx(1 / 3)


def test_box_inside_another():
    # a small box (25) fully inside a large one (100) → IoU 0.25
    assert objects_similarity([box("car", 0, 0, 10, 10)], [box("car", 0, 0, 5, 5)]) == 0.25


def test_same_box_other_class_does_not_match():
    a = {"objects": [box("car", 0, 0, 10, 10)]}
    b = {"objects": [box("person", 0, 0, 10, 10)]}
    assert similarity(a, b) == 0.0


def test_unmatched_objects_count_in_the_denominator():
    a = [box("car", 0, 0, 10, 10), box("car", 100, 100, 10, 10)]
    b = [box("car", 0, 0, 10, 10)]
    assert objects_similarity(a, b) == 0.5


def test_greedy_matching_takes_the_highest_iou_first_one_to_one():
    # a0 overlaps b0 fully (IoU 1) and b1 partly; a1 overlaps only b0 partly.
    # Greedy: (a0, b0) = 1 first; a1 cannot take b0 again, and has no other partner.
    a = [box("car", 0, 0, 10, 10), box("car", 5, 0, 10, 10)]
    b = [box("car", 0, 0, 10, 10), box("car", 8, 0, 10, 10)]
    # pairs: a0-b0 1.0; a0-b1 2/18=1/9; a1-b0 1/3; a1-b1 70/130=7/13
    # greedy: a0-b0 (1.0), then a1-b1 (7/13); total (1 + 7/13) / 2
    assert objects_similarity(a, b) == pytest.approx((1 + 7 / 13) / 2)


def test_classes_jaccard():
    assert classes_similarity(["car", "person"], ["car"]) == 0.5
    assert classes_similarity(["car"], ["person"]) == 0.0
    assert classes_similarity(["a", "b", "c"], ["b", "c", "d"]) == 0.5
    assert classes_similarity(["car", "car"], ["car"]) == 1.0  # sets


def test_both_empty_parts_are_1():
    assert classes_similarity([], []) == 1.0
    assert objects_similarity([], []) == 1.0
    assert similarity({"classes": []}, {"classes": []}) == 1.0
    assert similarity({"objects": []}, {"objects": []}) == 1.0


def test_part_missing_on_one_side_counts_as_empty():
    assert similarity({"classes": ["car"]}, {}) == 0.0
    assert similarity({"classes": []}, {}) == 1.0
    assert similarity({"objects": [box("car", 0, 0, 1, 1)]}, {"classes": []}) == 0.5


def test_mean_of_the_present_parts():
    a = {"classes": ["car", "person"], "objects": [box("car", 0, 0, 10, 10)]}
    b = {"classes": ["car"], "objects": [box("car", 5, 0, 10, 10)]}
    assert similarity(a, b) == pytest.approx((0.5 + 1 / 3) / 2)


def test_neither_part_present_compares_equality():
    assert similarity({}, {}) == 1.0
    assert similarity({"text": "a"}, {"text": "a"}) == 1.0
    assert similarity({"text": "a"}, {"text": "b"}) == 0.0


def test_malformed_objects_never_raise_and_match_nothing():
    a = {"objects": [box("car", 0, 0, 10, 10), {"class": "car"}, "junk", box("car", 0, 0, -1, 5)]}
    b = {"objects": [box("car", 0, 0, 10, 10)]}
    assert similarity(a, b) == 0.25  # 1 matched IoU / 4 objects
    assert similarity({"objects": "x"}, {"objects": None}) == 1.0
    assert similarity({"classes": None}, {"classes": [1, "car"]}) == 0.0
    assert similarity(None, {}) == 1.0


def test_agreement_is_the_mean_over_pairs():
    a, b, c = {"classes": ["car"]}, {"classes": ["car"]}, {"classes": ["person"]}
    assert agreement([]) is None
    assert agreement([a]) is None
    assert agreement([a, b]) == 1.0
    assert agreement([a, b, c]) == pytest.approx(1 / 3)  # pairs: 1, 0, 0


@pytest.mark.parametrize(
    ("value", "bucket"),
    [(0.0, 0), (0.05, 0), (0.1, 1), (0.1 + 0.2, 3), (0.29999999999999993, 3), (0.99, 9), (1.0, 9)],
)
def test_histogram_buckets(value, bucket):
    assert histogram_bucket(value) == bucket
