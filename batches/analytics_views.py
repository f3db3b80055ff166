"""The project analytics page: throughput over time and the agreement histogram as
server-drawn SVG bar charts (with their numbers in tables), and the labeler table, sortable by
any column through plain links. Reviewers and managers; works without JavaScript."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import render

from dashboard.errors import ApplicationError
from dashboard.roles import Role, role_required

from .analytics import agreement_summary, labeler_stats, throughput
from .charts import bar_chart
from .forms import AnalyticsForm, first_error
from .selectors import project_get
from .views import page_errors


def _sorted(lines: list[dict], *, sort: str, order: str) -> list[dict]:
    def key(line):
        value = line["user"]["username"] if sort == "user" else line[sort]
        return (value is None, value if value is not None else 0)

    ordered = sorted(lines, key=key, reverse=order == "desc")
    if order == "desc":  # empty values last either way
        ordered = [x for x in ordered if x[sort] is not None] + [
            x for x in ordered if x[sort] is None
        ]
    return ordered


LABELS = {
    "user": "Labeler",
    "labels": "Labels",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "pending_review": "Pending review",
    "skips": "Skips",
    "median_seconds": "Median seconds",
    "agreement": "Agreement",
    "gold_score": "Gold score",
    "gold_labels": "Gold labels",
}


def _headers(request, *, sort: str, order: str) -> list[dict]:
    """The table's column headers: each a link sorting by it (again: the other way)."""
    keep = {k: request.GET[k] for k in ("since", "until", "bucket") if request.GET.get(k)}
    headers = []
    for name in AnalyticsForm.SORTS:
        current = name == sort
        default = "asc" if name == "user" else "desc"
        next_order = ("desc" if order == "asc" else "asc") if current else default
        headers.append(
            {
                "name": name,
                "label": LABELS[name],
                "href": "?" + urlencode({**keep, "sort": name, "order": next_order}),
                "aria_sort": ("ascending" if order == "asc" else "descending") if current else None,
            }
        )
    return headers


@role_required(Role.REVIEWER)
@page_errors
def analytics_page(request, project_id: str):
    project = project_get(project_id=project_id)
    form = AnalyticsForm(request.GET or None)
    query: dict = {}
    if form.is_bound:
        if form.is_valid():
            query = {k: v for k, v in form.cleaned_data.items() if v}
        else:
            messages.error(request, first_error(form).message)
    bucket, sort = query.get("bucket", "day"), query.get("sort", "labels")
    order = query.get("order", "asc" if sort == "user" else "desc")
    since, until = query.get("since"), query.get("until")
    context: dict = {"project": project, "form": form, "sort": sort, "order": order}
    try:
        flow = throughput(project=project, bucket=bucket, since=since, until=until)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        flow = throughput(project=project, bucket=bucket)
    fmt = "%H:%M" if bucket == "hour" else "%m-%d"
    points = [(r["start"].strftime(fmt), r["labels"]) for r in flow["results"]]
    agreement = agreement_summary(project=project)
    lines = labeler_stats(project=project, since=since, until=until)
    context.update(
        throughput=flow,
        throughput_chart=bar_chart(points, every=max(1, len(points) // 8)),
        agreement=agreement,
        agreement_chart=bar_chart(
            [(f"{b['from']:.1f}", b["rows"]) for b in agreement["histogram"]], every=1
        ),
        labelers=_sorted(lines, sort=sort, order=order),
        headers=_headers(request, sort=sort, order=order),
        csv_query=urlencode(
            {
                "format": "csv",
                **{k: v.isoformat() for k, v in (("since", since), ("until", until)) if v},
            }
        ),
    )
    return render(request, "batches/analytics.html", context)
