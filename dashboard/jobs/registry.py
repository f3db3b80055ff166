"""The job kinds: each app declares its long operations here with `@job_kind("name")`.

Apps' `jobs.py` modules are imported when Django starts (DashboardConfig.ready), so the web
process and every worker know the same kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dashboard.errors import Invalid


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    handler: Callable[..., Any]


_KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, label: str):
    """Register `handler(run: JobRun) -> result` as the job kind `name`."""

    def decorator(handler):
        _KINDS[name] = JobKind(name=name, label=label, handler=handler)
        return handler

    return decorator


def job_kind_get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise Invalid(f"Unknown job kind {name!r}.", field="kind") from None


def job_kinds() -> list[JobKind]:
    return sorted(_KINDS.values(), key=lambda k: k.name)
