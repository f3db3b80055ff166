"""Run a seed page's code example as written there: only the import line and the connection
change; the page's `<placeholders>` are filled with real ids, each occurrence in turn."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from typing import Any

PLACEHOLDER = re.compile(r'"<([a-z_]+)>"')


def run_example(code: str, namespace: dict[str, Any], **fills: Any) -> dict[str, Any]:
    """exec `code` in `namespace`; `"<name>"` becomes repr(next value of fills[name]) (a list
    gives one value per occurrence, anything else the same value each time)."""
    iterators: dict[str, Iterator] = {
        name: iter(value) if isinstance(value, list) else iter(lambda v=value: v, object())
        for name, value in fills.items()
    }

    def fill(match: re.Match) -> str:
        return repr(next(iterators[match.group(1)]))

    exec(PLACEHOLDER.sub(fill, textwrap.dedent(code)), namespace)  # noqa: S102
    return namespace
