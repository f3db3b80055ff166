"""Reads on datasets, versions and frames."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from django.db.models import F, Lookup, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from dashboard.errors import Conflict, Invalid, NotFound

from .copy_on_write import effective_entries, iter_revision_ids, nearest_contents, version_chain
from .models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision
from .projection import project
from .tag_filter import tag_predicate

# ---------------------------------------------------------------- datasets


def dataset_list(*, tags: list[str] | None = None) -> QuerySet[Dataset]:
    """Datasets oldest first, filtered by the seed's tag language."""
    datasets = Dataset.objects.order_by("created_at", "id")
    if tags:
        matches = tag_predicate(tags)
        ids = [pk for pk, t in Dataset.objects.values_list("pk", "tags") if matches(t)]
        datasets = datasets.filter(pk__in=ids)
    return datasets


DATASET_SORTS = {
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "name": ("name", "id"),
}
TAG_CHOICES_SCAN = 10_000  # datasets read to offer the tags in use


def dataset_search(datasets: QuerySet[Dataset], *, q: str = "", sort: str = "oldest"):
    """`datasets` whose name, folder or description contains `q` (any case), sorted."""
    if q:
        datasets = datasets.filter(
            Q(name__icontains=q) | Q(dataset_project__icontains=q) | Q(description__icontains=q)
        )
    return datasets.order_by(*DATASET_SORTS.get(sort, DATASET_SORTS["oldest"]))


def dataset_tag_choices(*, limit: int = 40) -> list[str]:
    """The tags most datasets carry (for the tag filter's picker)."""
    counts: Counter[str] = Counter()
    for tags in Dataset.objects.values_list("tags", flat=True)[:TAG_CHOICES_SCAN]:
        if isinstance(tags, list):
            counts.update(t for t in tags if isinstance(t, str))
    return sorted(tag for tag, _ in counts.most_common(limit))


def dataset_row_counts(datasets: QuerySet[Dataset]) -> QuerySet[Dataset]:
    """`datasets` with `row_count`: the frames of the version their data-row view reads (the
    current draft, else the newest published version; `version_for_reading`), from its
    statistics, which every write keeps current. Two index lookups per dataset, any size."""
    from django.db.models import IntegerField, OuterRef, Subquery
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast, Coalesce

    def frames(status: str, newest: tuple[str, ...]):
        versions = DatasetVersion.objects.filter(
            dataset=OuterRef("pk"), removed=False, status=status
        ).order_by(*newest)
        count = Cast(KeyTextTransform("frame_count", "stats"), IntegerField())
        return Subquery(versions.annotate(n=count).values("n")[:1], output_field=IntegerField())

    draft = frames(DatasetVersion.Status.DRAFT, ("-updated_at", "-id"))
    published = frames(DatasetVersion.Status.PUBLISHED, ("-published_at", "-id"))
    return datasets.annotate(row_count=Coalesce(draft, published, 0))


def dataset_get(*, dataset_id: str) -> Dataset:
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound(f"No dataset with id {dataset_id!r}.")
    return dataset


# ---------------------------------------------------------------- versions


def _live(dataset: Dataset) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.filter(dataset=dataset, removed=False)


def version_get(*, version_id: str) -> DatasetVersion:
    version = DatasetVersion.objects.filter(pk=version_id, removed=False).first()
    if version is None:
        raise NotFound(f"No version with id {version_id!r}.")
    return version


def version_list(
    *, dataset: Dataset, only_published: bool = False, only_draft: bool = False
) -> QuerySet[DatasetVersion]:
    """Newest-updated first; both switches select nothing (no version is both)."""
    versions = _live(dataset).order_by("-updated_at", "-id")
    if only_published:
        versions = versions.filter(status=DatasetVersion.Status.PUBLISHED)
    if only_draft:
        versions = versions.filter(status=DatasetVersion.Status.DRAFT)
    return versions


def version_current(*, dataset: Dataset) -> DatasetVersion:
    """The current writable version: the most recently updated draft."""
    version = version_list(dataset=dataset, only_draft=True).first()
    if version is None:
        raise NotFound(f"Dataset {dataset.name!r} has no draft version.")
    return version


def version_for_reading(
    *, dataset: Dataset, only: tuple[str, ...] | None = None
) -> DatasetVersion | None:
    """What the data-row view reads: the current draft, else the newest published version
    (with `only` those fields, e.g. a link's name without the metadata)."""
    drafts = version_list(dataset=dataset, only_draft=True)
    published = _live(dataset).filter(status=DatasetVersion.Status.PUBLISHED)
    if only:
        drafts, published = drafts.only(*only), published.only(*only)
    return drafts.first() or published.order_by("-published_at", "-id").first()


def version_by_name(
    *, dataset: Dataset, name: str, raise_on_multiple: bool = False
) -> DatasetVersion:
    versions = list(_live(dataset).filter(name=name).order_by("-updated_at", "-id")[:2])
    if not versions:
        raise NotFound(f"No version named {name!r} in dataset {dataset.name!r}.")
    if raise_on_multiple and len(versions) > 1:
        raise Conflict(f"Several versions are named {name!r}.", field="name")
    return versions[0]


def version_parent_resolve(*, dataset: Dataset, ref: Any) -> DatasetVersion | None:
    """`parent` given by id or by name (a list of one is accepted; more → 400)."""
    if ref in (None, ""):
        return None
    if isinstance(ref, list):
        if len(ref) != 1:
            raise Invalid("A version has one parent: give its id or name.", field="parent")
        return version_parent_resolve(dataset=dataset, ref=ref[0])
    if not isinstance(ref, str):
        raise Invalid("Give the parent's id or name.", field="parent")
    by_id = _live(dataset).filter(pk=ref).first()
    if by_id is not None:
        return by_id
    named = _live(dataset).filter(name=ref).order_by("-published_at", "-updated_at")
    published = named.filter(status=DatasetVersion.Status.PUBLISHED).first()
    if published is not None:
        return published
    if named.exists():
        raise Conflict(f"The version named {ref!r} is a draft: publish it first.", field="parent")
    raise NotFound(f"No version with id or name {ref!r} in this dataset.", field="parent")


# ---------------------------------------------------------------- frames


def frame_dicts(version: DatasetVersion, pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Frames `{id, global_key, dataset, sources, meta, rois, attachments}` for
    (data_row_id, revision_id) pairs, in two queries."""
    if not pairs:
        return []
    contents = dict(
        FrameRevision.objects.filter(pk__in=[r for _, r in pairs]).values_list("pk", "content")
    )
    keys = dict(
        DataRow.objects.filter(pk__in=[d for d, _ in pairs]).values_list("pk", "global_key")
    )
    return [
        {
            "id": row_id,
            "global_key": keys.get(row_id),
            "dataset": {"id": version.dataset_id},
            **contents[revision_id],
        }
        for row_id, revision_id in pairs
    ]


def frames_page(
    *,
    version: DatasetVersion,
    after: str = "",
    before: str = "",
    limit: int = 100,
    ids: list[str] | None = None,
    source: str | None = None,
    projection: list[list[str]] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of frames in id order: the first `limit` after `after`, or with `before` the
    last `limit` before it. Returns (frames, has_more) — more in the direction of travel."""
    pattern = source_pattern(source) if source else None
    if pattern is not None and pattern != "*":  # every frame has a URI: `*` matches them all
        pairs = _source_pairs(version, pattern, after=after, before=before, ids=ids, limit=limit)
    else:
        pairs = []
        window = min(limit + 1, 2000)
        for pair in iter_revision_ids(version, after=after, before=before, ids=ids, window=window):
            pairs.append(pair)
            if len(pairs) > limit:
                break
    has_more = len(pairs) > limit
    pairs = pairs[:limit]
    if before:
        pairs.reverse()
    frames = frame_dicts(version, pairs)
    return [project(f, projection) for f in frames], has_more


def _source_pairs(
    version: DatasetVersion,
    pattern: str,
    *,
    after: str,
    before: str,
    ids: list[str] | None,
    limit: int,
) -> list[tuple[str, int]]:
    """(data_row_id, revision_id) of up to `limit` + 1 frames with a URI matching `pattern`, in
    the direction of travel. A window at a time: the data rows with an entry anywhere on the
    chain whose URIs the database's LIKE/GLOB matches (linear time, an index-ordered scan that
    stops once the page is full), then each one's nearest entry, kept if one of its own URIs
    matches — the database's `*` may run across the newline between two URIs, and a nearer
    entry may hide a matching ancestor."""
    chain = version_chain(version)
    candidates = FrameEntry.objects.filter(
        SourceLike(F("revision__source_uris"), pattern), version_id__in=chain
    )
    if ids is not None:
        candidates = candidates.filter(data_row_id__in=ids)
    pairs: list[tuple[str, int]] = []
    bound, window = before or after, min(limit + 1, 2000)
    while len(pairs) <= limit:
        if before:
            batch = candidates.filter(data_row_id__lt=bound).order_by("-data_row_id")
        else:
            batch = candidates.filter(data_row_id__gt=bound).order_by("data_row_id")
        row_ids = list(batch.values_list("data_row_id", flat=True).distinct()[:window])
        if not row_ids:
            break
        nearest = dict(iter_revision_ids(version, ids=row_ids, chain=chain))
        uris = dict(
            FrameRevision.objects.filter(pk__in=set(nearest.values())).values_list(
                "pk", "source_uris"
            )
        )
        for row_id in row_ids:
            revision_id = nearest.get(row_id)
            if revision_id is not None and source_matches(pattern, uris[revision_id]):
                pairs.append((row_id, revision_id))
        if len(row_ids) < window:
            break
        bound = row_ids[-1]
    return pairs


def frame_get(*, version: DatasetVersion, frame_id: str) -> dict[str, Any]:
    frames, _ = frames_page(version=version, ids=[frame_id], limit=1)
    if not frames:
        raise NotFound(f"No frame {frame_id!r} in version {version.name!r}.")
    return frames[0]


SOURCE_PATTERN_MAX = 2048  # characters, after runs of `*` are collapsed


def source_pattern(pattern: Any) -> str:
    """A `?source=` pattern checked and with each run of `*` collapsed to one."""
    if not isinstance(pattern, str) or not pattern:
        raise Invalid("Give a URI pattern; '*' matches any run of characters.", field="source")
    pattern = re.sub(r"\*+", "*", pattern)
    if len(pattern) > SOURCE_PATTERN_MAX:
        raise Invalid(f"A URI pattern has at most {SOURCE_PATTERN_MAX} characters.", field="source")
    return pattern


def source_matches(pattern: str, source_uris: str) -> bool:
    """Whether one whole URI of `source_uris` ("\nuri1\nuri2\n") matches `pattern`, where `*`
    matches any run of characters and everything else itself. Linear: each piece between
    stars is found once, left to right (the first fit is always the best)."""
    *head, tail = pattern.split("*")
    for uri in source_uris.split("\n"):
        if not uri:
            continue
        if not head:
            if uri == tail:
                return True
            continue
        first, middle = head[0], head[1:]
        if not (uri.startswith(first) and uri.endswith(tail)):
            continue
        if len(first) + len(tail) > len(uri):
            continue
        at, end = len(first), len(uri) - len(tail)
        for piece in middle:
            found = uri.find(piece, at, end)
            if found < 0:
                break
            at = found + len(piece)
        else:
            return True
    return False


class SourceLike(Lookup):
    """`revision__source_uris` holds a line matching the `?source=` pattern — or, where `*`
    spans two URIs, a false positive that `source_matches` drops. Case-sensitive on both
    engines: `LIKE … ESCAPE` on PostgreSQL, `GLOB` on SQLite (whose LIKE ignores ASCII case).
    Both engines match such patterns in polynomial time, never by backtracking regexps."""

    lookup_name = "source_like"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        escaped = re.sub(r"([\\%_])", r"\\\1", self.rhs)
        return f"{lhs} LIKE %s ESCAPE '\\'", [*params, f"%\n{escaped.replace('*', '%')}\n%"]

    def as_sqlite(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        escaped = re.sub(r"([?\[])", r"[\1]", self.rhs)  # `*` stays the wildcard
        return f"{lhs} GLOB %s", [*params, f"*\n{escaped}\n*"]


def data_rows_of(version: DatasetVersion) -> QuerySet[FrameEntry]:
    """The version's frames as data rows (for the data-row view and its filters)."""
    return effective_entries(version).select_related("data_row", "revision")


def entries_count(version: DatasetVersion) -> int:
    return effective_entries(version).count()


def version_diff(*, newer: DatasetVersion, older: DatasetVersion, limit: int = 1000) -> dict:
    """`{counts: {added, removed, changed}, added: [...], removed: [...], changed: [...]}`:
    added = in `newer` only, removed = in `older` only, changed = different content."""
    from .copy_on_write import version_diff_rows

    if newer.dataset_id != older.dataset_id:
        raise Invalid("Both versions must belong to the same dataset.", field="against")
    rows = version_diff_rows(newer, older, limit=limit)
    return {
        "counts": {kind: count for kind, (count, _) in rows.items()},
        **{kind: ids for kind, (_, ids) in rows.items()},
    }


# ---------------------------------------------------------------- the frame browser

BROWSE_ORDERS = {"id": "data row id", "global_key": "global key"}
BROWSE_COUNT_CAP = 10_000  # a filtered total is counted up to here ("10,000+" beyond)
BROWSE_TEXT_MAX = 255  # characters of a global-key search or a metadata value


def browse_meta_filter(text: str) -> dict[str, str]:
    """The frame browser's metadata box, `key=value` (`key__gt=5`, `key__contains=abc`, …), as
    a data-row filter (the API's language: lookups checked, values read as JSON literals)."""
    text = text.strip()
    if not text:
        return {}
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise Invalid("Write the metadata filter as key=value, e.g. weather=rain.", field="meta")
    if len(value) > BROWSE_TEXT_MAX:
        raise Invalid(f"At most {BROWSE_TEXT_MAX} characters.", field="meta")
    return {f"metadata__{key.strip()}": value.strip()}


def frames_browse(
    *,
    version: DatasetVersion,
    key: str = "",
    meta: dict[str, str] | None = None,
    source: str | None = None,
    order: str = "id",
    after: str = "",
    before: str = "",
    limit: int = 24,
) -> tuple[list[dict[str, Any]], bool, int | None, bool]:
    """One page of the frame browser: (frames, has_more, total, total_capped).

    Unfiltered frames in id order use the keyset walk (`frames_page`) and the version's
    statistics for the total (counted up to BROWSE_COUNT_CAP when it has none); a source
    pattern alone is not counted. A global-key search (a case-insensitive substring), a
    metadata filter or the global-key order read the version's effective entries in one
    statement, paged by keyset on (order column, id) after/before a data row id; their total
    is counted up to BROWSE_COUNT_CAP."""
    from .row_filter import row_filter_q

    if order not in BROWSE_ORDERS:
        raise Invalid(f"Order by {' or '.join(BROWSE_ORDERS)}.", field="order")
    if len(key) > BROWSE_TEXT_MAX:
        raise Invalid(f"At most {BROWSE_TEXT_MAX} characters.", field="key")
    if not key and not meta and order == "id":
        frames, has_more = frames_page(
            version=version, after=after, before=before, limit=limit, source=source
        )
        if source:  # a pattern's matches are not counted: it may scan the whole version
            return frames, has_more, None, False
        total = version.stats.get("frame_count")
        if total is not None:
            return frames, has_more, total, False
        total = effective_entries(version)[: BROWSE_COUNT_CAP + 1].count()
        capped = total > BROWSE_COUNT_CAP
        return frames, has_more, min(total, BROWSE_COUNT_CAP), capped
    filters: dict[str, Any] = dict(meta or {})
    if key:
        filters["global_key__contains"] = key
    entries = effective_entries(version).filter(row_filter_q(filters, from_query=True))
    if source:
        pattern = source_pattern(source)
        if pattern != "*":
            entries = entries.filter(SourceLike(F("revision__source_uris"), pattern))
    total = entries[: BROWSE_COUNT_CAP + 1].count()
    capped = total > BROWSE_COUNT_CAP
    bound = before or after
    if order == "global_key":
        entries = entries.annotate(sort_key=Coalesce("data_row__global_key", Value("")))
        sort = ["sort_key", "data_row_id"]
        if bound:
            bound_key = (
                DataRow.objects.filter(pk=bound).values_list("global_key", flat=True).first() or ""
            )
            op = "lt" if before else "gt"
            entries = entries.filter(
                Q(**{f"sort_key__{op}": bound_key})
                | Q(sort_key=bound_key, **{f"data_row_id__{op}": bound})
            )
    else:
        sort = ["data_row_id"]
        if bound:
            entries = entries.filter(**{f"data_row_id__{'lt' if before else 'gt'}": bound})
    if before:
        sort = [f"-{column}" for column in sort]
    pairs = list(entries.order_by(*sort).values_list("data_row_id", "revision_id")[: limit + 1])
    has_more = len(pairs) > limit
    pairs = pairs[:limit]
    if before:
        pairs.reverse()
    frames = frame_dicts(version, pairs)
    if source:
        pattern = source_pattern(source)
        frames = [
            f
            for f in frames
            if pattern == "*"
            or source_matches(
                pattern, "\n" + "\n".join(s.get("uri", "") for s in f["sources"]) + "\n"
            )
        ]
    return frames, has_more, (BROWSE_COUNT_CAP if capped else total), capped


def frame_neighbours(*, version: DatasetVersion, frame_id: str) -> dict[str, str | None]:
    """The ids of the frames before and after `frame_id` in data-row order (frame page links)."""
    before = next(iter_revision_ids(version, before=frame_id, window=1), (None,))[0]
    after = next(iter_revision_ids(version, after=frame_id, window=1), (None,))[0]
    return {"previous": before, "next": after}


FRAME_FIELDS = ("sources", "meta", "rois", "attachments")


def _changed_fields(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """What differs between two contents of a frame, in words: "meta.weather", "rois", …"""
    changed = []
    for field in FRAME_FIELDS:
        a, b = new.get(field), old.get(field)
        if a == b:
            continue
        if field == "meta" and isinstance(a, dict) and isinstance(b, dict):
            keys = sorted(k for k in a.keys() | b.keys() if a.get(k, ...) != b.get(k, ...))
            changed.extend(f"meta.{k}" for k in keys[:5])
            if len(keys) > 5:
                changed.append(f"{len(keys) - 5} more meta keys")
        else:
            changed.append(field)
    extra = sorted((new.keys() | old.keys()) - set(FRAME_FIELDS))
    changed.extend(k for k in extra if new.get(k) != old.get(k))
    return changed


def version_diff_details(
    *, newer: DatasetVersion, older: DatasetVersion, diff: dict
) -> dict[str, list[dict[str, Any]]]:
    """The diff's listed rows for people: `{kind: [{id, global_key, version, fields}]}` —
    the global key, the version whose frame page shows the row (the older one for removed
    rows) and, for changed rows, which fields changed. A few queries for the listed ids only."""
    listed = [i for kind in ("added", "removed", "changed") for i in diff.get(kind, [])]
    keys = dict(DataRow.objects.filter(pk__in=listed).values_list("pk", "global_key"))
    fields: dict[str, list[str]] = {}
    changed = diff.get("changed", [])
    if changed:
        new_contents = nearest_contents(version_chain(newer), changed)
        old_contents = nearest_contents(version_chain(older), changed)
        fields = {
            i: _changed_fields(new_contents.get(i, {}), old_contents.get(i, {})) for i in changed
        }
    return {
        kind: [
            {
                "id": i,
                "global_key": keys.get(i),
                "version": older if kind == "removed" else newer,
                "fields": fields.get(i, []),
            }
            for i in diff.get(kind, [])
        ]
        for kind in ("added", "removed", "changed")
    }
