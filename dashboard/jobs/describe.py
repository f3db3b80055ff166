"""How people see a job: a human title ("Import into Traffic cams / draft"), the target it works
on with a link, the results it made as links and the counts that belong to its kind.

Each app says it for its kinds (`job_kind(title=…, target=…, results=…, counts=…)`) and names
the objects its jobs point at with `job_ref_resolver` (ids → names and links, one query per
kind of object for a whole page of jobs; `named_refs` is one for rows with a name and a page),
so the dashboard never imports an app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.fields.json import KT

from dashboard.models import COUNT_KEYS, Job

from .registry import job_kind_find, job_kinds

log = logging.getLogger(__name__)

# The parameters a title or a target may name: small values read even for job lists (a job's
# params may hold a million ids; lists read only these keys, in the database).
REF_KEYS = ("dataset_id", "version_id", "project_id", "batch_id", "name_prefix", "record_type")


@dataclass(frozen=True)
class Ref:
    """An object a job names: what people read, and where its page is (None: no page)."""

    name: str
    url: str | None = None

    def __str__(self) -> str:
        return self.name


_RESOLVERS: dict[str, Callable[[set[str]], dict[str, Ref]]] = {}


def named_refs(
    queryset, url_name: str, *, prefix: str = ""
) -> Callable[[Iterable[str]], dict[str, Ref]]:
    """`resolve(ids)` for the rows of `queryset` with those ids: each called by its `name`
    (after `prefix`), with a link to its `url_name` page. One query."""

    def resolve(ids: Iterable[str]) -> dict[str, Ref]:
        from django.urls import reverse

        return {
            pk: Ref(f"{prefix}{name}", reverse(url_name, args=[pk]))
            for pk, name in queryset.filter(pk__in=ids).values_list("pk", "name")
        }

    return resolve


def job_ref_resolver(key: str):
    """Register `resolve(ids) -> {id: Ref}` for the parameter `key` (e.g. "dataset_id")."""

    def decorator(resolve):
        _RESOLVERS[key] = resolve
        return resolve

    return decorator


_SEARCHES: dict[str, Callable[[str], Iterable[str]]] = {}
# At most this many objects per kind of name are matched by a search (a page of jobs is read).
REF_SEARCH_LIMIT = 500


def job_ref_search(key: str):
    """Register `search(q) -> ids` for the parameter `key`: the objects whose name contains `q`
    (any case), so a job list can be searched by the names its titles show."""

    def decorator(search):
        _SEARCHES[key] = search
        return search

    return decorator


def job_search_q(q: str) -> Q:
    """Jobs whose title or row could read `q` (any case): the kind (its name or label), the job
    id, the creator's user name, or a dataset, version, project or batch the job names. For
    job querysets."""
    needle = q.casefold()
    kinds = [k.name for k in job_kinds() if needle in k.label.casefold() or needle in k.name]
    found = Q(kind__in=kinds) | Q(pk=q)
    # Every branch is a lookup on an indexed column of the job table (the kind, the id, the
    # creator, each searched parameter: `Job.Meta.indexes`), so PostgreSQL reads the matching
    # jobs only; a join to the users in the OR would read every job.
    users = get_user_model().objects.filter(username__icontains=q).values_list("pk", flat=True)
    creators = list(users[:REF_SEARCH_LIMIT])
    if creators:
        found |= Q(created_by_id__in=creators)
    for key, search in _SEARCHES.items():
        ids = list(search(q)[:REF_SEARCH_LIMIT])
        if ids:
            found |= Q(**{f"params__{key}__in": ids})
    return found


def ref_annotations() -> dict:
    """`ref_<key>` annotations of the small parameters, for lists that do not read params."""
    return {f"ref_{key}": KT(f"params__{key}") for key in REF_KEYS}


def _raw_refs(job: Job) -> dict[str, str]:
    loaded = "params" not in job.get_deferred_fields()
    params = job.params if loaded and isinstance(job.params, dict) else {}
    refs = {}
    for key in REF_KEYS:
        value = params.get(key) if loaded else getattr(job, f"ref_{key}", None)
        if isinstance(value, str) and value:
            refs[key] = value
    return refs


def jobs_describe(jobs: Iterable[Job]) -> list[Job]:
    """Give each job `title`, `kind_label`, `target` (a Ref or None) and `refs`; the names
    of a whole page of jobs are read with one query per kind of object."""
    jobs = list(jobs)
    raws = [_raw_refs(job) for job in jobs]
    names: dict[str, dict[str, Ref]] = {}
    for key, resolve in _RESOLVERS.items():
        ids = {raw[key] for raw in raws if key in raw}
        names[key] = resolve(ids) if ids else {}
    for job, raw in zip(jobs, raws, strict=True):
        refs: dict = {
            key: (names[key].get(value) or Ref("(deleted)")) if key in names else value
            for key, value in raw.items()
        }
        kind = job_kind_find(job.kind)
        job.kind_label = kind.label if kind else job.kind
        job.refs = refs
        job.title = job.kind_label
        job.target = refs.get(kind.target) if kind and kind.target else None
        if kind and kind.title:
            try:
                job.title = kind.title(refs)
            except KeyError:  # an old job without the parameter the title names
                pass
    return jobs


def job_results(job: Job) -> list[tuple[str, str | None]]:
    """What the job made, as (text, url) pairs (a batch, a version, a file to download)."""
    kind = job_kind_find(job.kind)
    if kind is None or kind.results is None or job.status != Job.Status.SUCCEEDED:
        return []
    try:
        return list(kind.results(job, getattr(job, "refs", {})))
    except (KeyError, TypeError, AttributeError):
        log.warning("job %s: its result could not be shown as links", job.pk)
        return []


def job_counts(job: Job) -> list[tuple[str, int]]:
    """The counts that belong to the job's kind, with the kind's words; other counts only when
    they are not zero."""
    kind = job_kind_find(job.kind)
    counts = job.counts if isinstance(job.counts, dict) else {}
    if kind is not None and kind.counts is not None:
        labels = kind.counts
    else:
        labels = {key: key for key in COUNT_KEYS}
    shown = [(label, counts.get(key, 0)) for key, label in labels.items()]
    shown += [(key, n) for key, n in counts.items() if key not in labels and n]
    return shown
