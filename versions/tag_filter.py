"""The dataset tag language (from the DatasetVersion seed), parsed into a predicate.

Plain tags are OR-ed; `-tag` always excludes (a dataset carrying it never matches); operators
start a new group: `__$all`/`__$and` AND the tags that follow, `__$or` ORs them; groups are
AND-ed together; `__$not` negates only the next tag (a last `__$not` negates nothing). E.g.
`["__$all","a","b","c","__$or","d","__$not","e","__$and","__$or","f","g"]`
means a ∧ b ∧ c ∧ (d ∨ ¬e) ∧ (f ∨ g).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dashboard.errors import Invalid

OPERATORS = {"__$all": "and", "__$and": "and", "__$or": "or"}
NOT = "__$not"


@dataclass
class _Group:
    mode: str  # "and" | "or"
    terms: list[tuple[str, bool]] = field(default_factory=list)  # (tag, negated)

    def matches(self, tags: set[str]) -> bool:
        if not self.terms:
            return True
        results = ((tag in tags) != negated for tag, negated in self.terms)
        return all(results) if self.mode == "and" else any(results)


def tag_predicate(expression: Iterable[str]) -> Callable[[Iterable[str]], bool]:
    """Compile the tag list into `predicate(dataset_tags) -> bool`; unknown operators → 400."""
    groups: list[_Group] = [_Group("or")]
    excluded: set[str] = set()
    negate_next = False
    for token in expression:
        if not isinstance(token, str) or not token:
            raise Invalid("Tags must be non-empty strings.", field="tags")
        if token == NOT:
            negate_next = True
            continue
        if token in OPERATORS:
            groups.append(_Group(OPERATORS[token]))
            continue
        if token.startswith("__$"):
            raise Invalid(
                f"Unknown tag operator {token!r}: use __$all, __$and, __$or or __$not.",
                field="tags",
            )
        if token.startswith("-") and len(token) > 1:
            excluded.add(token[1:])
        else:
            groups[-1].terms.append((token, negate_next))
        negate_next = False

    def predicate(tags: Iterable[str]) -> bool:
        tag_set = set(tags or [])
        if tag_set & excluded:
            return False
        return all(group.matches(tag_set) for group in groups)

    return predicate
