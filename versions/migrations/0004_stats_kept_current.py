"""Statistics are kept current by every write from now on (`versions.stats.stats_apply`), so
each version's counts must be exact to start with: count them once here."""

import json

from django.db import migrations
from django.utils import timezone

WINDOW = 2000


def _contents(cursor, entries, revisions, chain):
    """The contents of the version's frames (the nearest entry of its chain per data row,
    tombstones left out), a window of data rows at a time."""
    marks = ", ".join(["%s"] * len(chain))
    rank = " ".join(f"WHEN %s THEN {i}" for i in range(len(chain)))
    after = ""
    while True:
        cursor.execute(
            f"SELECT DISTINCT data_row_id FROM {entries} WHERE version_id IN ({marks})"
            " AND data_row_id > %s ORDER BY data_row_id LIMIT %s",
            [*chain, after, WINDOW],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return
        cursor.execute(
            f"SELECT r.content FROM (SELECT revision_id, ROW_NUMBER() OVER ("
            f" PARTITION BY data_row_id ORDER BY CASE version_id {rank} END) AS rn"
            f" FROM {entries} WHERE version_id IN ({marks})"
            f" AND data_row_id IN ({', '.join(['%s'] * len(ids))})) ranked"
            f" JOIN {revisions} r ON r.id = ranked.revision_id WHERE ranked.rn = 1",
            [*chain, *chain, *ids],
        )
        for (content,) in cursor.fetchall():
            yield json.loads(content) if isinstance(content, str) else content
        after = ids[-1]


def count_all(apps, schema_editor):
    Version = apps.get_model("versions", "DatasetVersion")
    entries = apps.get_model("versions", "FrameEntry")._meta.db_table
    revisions = apps.get_model("versions", "FrameRevision")._meta.db_table
    parents = dict(Version.objects.values_list("pk", "parent_id"))
    with schema_editor.connection.cursor() as cursor:
        for version_id in parents:
            chain, parent = [version_id], parents[version_id]
            while parent is not None:
                chain.append(parent)
                parent = parents.get(parent)
            frames = sources = 0
            labels: dict[str, int] = {}
            for content in _contents(cursor, entries, revisions, chain):
                try:
                    n = len(content["sources"])
                    names = [name for roi in content.get("rois") or [] for name in roi["label"]]
                except (KeyError, TypeError):
                    continue
                frames += 1
                sources += n
                for name in names:
                    labels[name] = labels.get(name, 0) + 1
            Version.objects.filter(pk=version_id).update(
                stats={
                    "frame_count": frames,
                    "source_count": sources,
                    "label_counts": dict(sorted(labels.items())),
                    "last_updated": timezone.now().isoformat(),
                }
            )


class Migration(migrations.Migration):
    dependencies = [("versions", "0003_lean_frame_indexes")]

    operations = [migrations.RunPython(count_all, migrations.RunPython.noop)]
