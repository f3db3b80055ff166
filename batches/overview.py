"""What the batches app adds to the overview: queue depth per project, a chart of labelling
progress, and labels and batches in the activity feed. Discovered by `dashboard.overview`."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from dashboard.overview import Activity, overview_activity_register, overview_panel_register

from .models import Batch, Label, Project, QueueEntry

PROJECTS_SHOWN = 12
# What the activity feed shows of a label and of a batch (their payloads stay unread).
LABEL_FEED_FIELDS = (
    "created_at",
    "project__name",
    "data_row__global_key",
    "author__username",
)
BATCH_FEED_FIELDS = ("name", "size", "created_at", "project__name", "created_by__username")


def project_queues() -> list[dict]:
    """Per project: queued, reserved and done rows. Two queries whatever the number of projects:
    one GROUP BY (project, state) over the queue, one for the names of the projects shown."""
    depth: dict[str, dict[str, int]] = {}
    for project_id, state, n in (
        QueueEntry.objects.order_by()
        .values_list("project_id", "state")
        .annotate(n=Count("id"))
        .values_list("project_id", "state", "n")
    ):
        depth.setdefault(project_id, dict.fromkeys(QueueEntry.State.values, 0))[state] = n
    shown = sorted(
        depth, key=lambda p: (-(depth[p]["queued"] + depth[p]["reserved"]), -depth[p]["done"])
    )[:PROJECTS_SHOWN]
    names = dict(Project.objects.filter(pk__in=shown).values_list("pk", "name"))
    rows = []
    for project_id in shown:
        d = depth[project_id]
        total = d["queued"] + d["reserved"] + d["done"]
        rows.append(
            {
                "id": project_id,
                "name": names.get(project_id, project_id),
                "url": reverse("project-detail", args=[project_id]),
                "queued": d["queued"],
                "reserved": d["reserved"],
                "done": d["done"],
                "total": total,
                "percent": int(100 * d["done"] / total) if total else 0,
            }
        )
    return rows


def _queues_panel() -> dict:
    rows = project_queues()
    chart = {
        "labels": [r["name"] for r in rows],
        "series": [
            {"key": "done", "label": "Done", "data": [r["done"] for r in rows]},
            {"key": "reserved", "label": "Reserved", "data": [r["reserved"] for r in rows]},
            {"key": "queued", "label": "Queued", "data": [r["queued"] for r in rows]},
        ],
    }
    return {"projects": rows, "chart": chart, "more": Project.objects.count() > len(rows)}


def _activity(limit: int) -> list[Activity]:
    events = []
    # Newest labels by primary key (indexed), with what they need in the same query: only
    # the columns shown, never the annotation (or a project's ontology, a row's data).
    for label in (
        Label.objects.select_related("author", "project", "data_row")
        .only(*LABEL_FEED_FIELDS)
        .order_by("-id")[:limit]
    ):
        events.append(
            Activity(
                when=label.created_at,
                text=f"{label.author} labelled {label.data_row.global_key or label.data_row_id} "
                f"in {label.project.name}",
                url=reverse("project-detail", args=[label.project_id]),
                kind="label",
            )
        )
    for batch in (
        Batch.objects.select_related("project", "created_by")
        .only(*BATCH_FEED_FIELDS)
        .order_by("-created_at")[:limit]
    ):
        who = f"{batch.created_by} created" if batch.created_by else "Created"
        events.append(
            Activity(
                when=batch.created_at,
                text=f"{who} batch {batch.name} ({batch.size} rows) in {batch.project.name}",
                url=reverse("project-detail", args=[batch.project_id]),
                kind="batch",
            )
        )
    return events


overview_panel_register(
    key="queues", template="batches/_overview_queues.html", context=_queues_panel, order=10
)
overview_activity_register(_activity)
