"""Checks the dataset and version verbs share: a name is never blank, and an edit names only
the fields it may change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.errors import Invalid


def name_required(value: Any, *, what: str) -> str:
    """`value` trimmed; blank (or None) is refused, naming `name`: "A <what> needs a name."."""
    name = (value or "").strip()
    if not name:
        raise Invalid(f"A {what} needs a name.", field="name")
    return name


def fields_allowed(fields: Iterable[str], allowed: set[str]) -> None:
    """Refuse an edit naming any field but `allowed` (the first unknown one, sorted, named)."""
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
