"""Reading a version's frames through its ancestor chain (copy-on-write).

A version's frames are, for each data row, the `FrameEntry` of the nearest version on its chain
(itself first, then parent, grandparent, …) unless that entry is a tombstone. The read is one
statement: entries of the chain ranked per data row by generation (a window function, portable
to PostgreSQL and SQLite), keeping rank 1 with a revision. The chain is short and read once.
"""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from .models import DatasetVersion, FrameEntry


def version_chain(version: DatasetVersion) -> list[str]:
    """Ids of the version and its ancestors, nearest first."""
    chain = [version.pk]
    parent_id = version.parent_id
    while parent_id is not None:
        chain.append(parent_id)
        parent_id = (
            DatasetVersion.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
        )
    return chain


def effective_entries(version: DatasetVersion) -> QuerySet[FrameEntry]:
    """The entries that make up the version's frames (tombstones excluded), one per data row."""
    chain = version_chain(version)
    if len(chain) == 1:
        return FrameEntry.objects.filter(version_id=version.pk, revision__isnull=False)
    generation = Case(
        *[When(version_id=vid, then=Value(i)) for i, vid in enumerate(chain)],
        output_field=IntegerField(),
    )
    nearest = (
        FrameEntry.objects.filter(version_id__in=chain)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("data_row_id")], order_by=generation.asc())
        )
        .filter(rank=1)
        .values("pk")
    )
    # Tombstones are dropped only after ranking: a deletion must hide the ancestors' revision.
    return FrameEntry.objects.filter(pk__in=nearest, revision__isnull=False)
