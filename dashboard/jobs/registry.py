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
    # How people see a job of this kind (see `dashboard.jobs.describe`): `title(refs)` names
    # it ("Import into Traffic cams / draft"), `target` is the ref key of what it works on,
    # `results(job, refs)` lists what it made as (text, url) pairs, `counts` labels the
    # counts that belong to the kind (the others are not shown unless non-zero).
    title: Callable[[dict], str] | None = None
    target: str | None = None
    results: Callable[[Any, dict], list] | None = None
    counts: dict[str, str] | None = None


_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str,
    *,
    label: str,
    title: Callable[[dict], str] | None = None,
    target: str | None = None,
    results: Callable[[Any, dict], list] | None = None,
    counts: dict[str, str] | None = None,
):
    """Register `handler(run: JobRun) -> result` as the job kind `name` (with how people see
    it: see `JobKind`)."""

    def decorator(handler):
        _KINDS[name] = JobKind(
            name=name,
            label=label,
            handler=handler,
            title=title,
            target=target,
            results=results,
            counts=counts,
        )
        return handler

    return decorator


def job_kind_get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise Invalid(f"Unknown job kind {name!r}.", field="kind") from None


def job_kind_find(name: str) -> JobKind | None:
    """The kind, or None for a kind no longer registered (an old job's)."""
    return _KINDS.get(name)


def job_kinds() -> list[JobKind]:
    return sorted(_KINDS.values(), key=lambda k: k.name)
