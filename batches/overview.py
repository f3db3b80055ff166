"""What the batches app adds to the overview: queue depth per project, a chart of labelling
progress, and the projects and batches that events name (the activity feed and page).
Discovered by `dashboard.overview`."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from dashboard.overview import (
    EventObject,
    event_objects_register,
    named_objects,
    overview_panel_register,
)

from .models import Batch, Project, QueueEntry

PROJECTS_SHOWN = 12


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


def _batches(ids: list[str]) -> dict[str, EventObject]:
    return {
        pk: EventObject(url=reverse("project-detail", args=[project_id]), name=f"batch {name}")
        for pk, name, project_id in Batch.objects.filter(pk__in=ids).values_list(
            "pk", "name", "project_id"
        )
    }


overview_panel_register(
    key="queues", template="batches/_overview_queues.html", context=_queues_panel, order=10
)
event_objects_register("project", named_objects(Project.objects, "project-detail"))
event_objects_register("batch", _batches)
