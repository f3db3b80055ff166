"""The seed's tag language, tested literally on its own examples."""

import pytest

from dashboard.errors import Invalid
from versions.tag_filter import tag_predicate

SEED_LONG = ["__$all", "a", "b", "c", "__$or", "d", "__$not", "e", "__$and", "__$or", "f", "g"]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["a", "b", "c", "d", "f"], True),
        (["a", "b", "c", "g"], True),  # d ∨ ¬e holds through ¬e
        (["a", "b", "c", "e", "f"], False),  # neither d nor ¬e
        (["a", "b", "c", "d"], False),  # f ∨ g fails
        (["a", "b", "d", "f"], False),  # c missing
    ],
)
def test_the_seeds_long_example_means_a_b_c_and_d_or_not_e_and_f_or_g(tags, expected):
    assert tag_predicate(SEED_LONG)(tags) is expected


def test_plain_tags_are_ored_and_minus_excludes():
    best_not_debug = tag_predicate(["best", "-debug"])
    assert best_not_debug(["best"]) and not best_not_debug(["best", "debug"])
    assert not best_not_debug(["other"])
    either = tag_predicate(["a", "b"])
    assert either(["b"]) and not either(["c"])


def test_all_switches_to_and_and_not_negates_only_the_next_tag():
    all_three = tag_predicate(["__$all", "best", "experiment", "ever"])
    assert all_three(["best", "experiment", "ever"]) and not all_three(["best", "experiment"])
    excluded = tag_predicate(["__$all", "best", "__$not", "internal", "__$not", "test"])
    assert excluded(["best"]) and not excluded(["best", "test"])
    assert not excluded(["best", "internal"])


def test_a_last_not_negates_nothing():
    assert tag_predicate(["a", "__$not"])({"a"}) and not tag_predicate(["a", "__$not"])({"b"})


@pytest.mark.parametrize("tags", [["__$xor", "a"], [""]])
def test_bad_expressions_are_400_naming_tags(tags):
    with pytest.raises(Invalid) as exc:
        tag_predicate(tags)
    assert exc.value.field == "tags"
