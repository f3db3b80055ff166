"""The review page: a reviewer takes the next label awaiting review, sees it beside the row's
other labels, and accepts or rejects it with a reason (keyboard: A accept, R reject; plain
forms without JS). Each POST is validated by `ReviewForm`, then one service is called.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import render

from dashboard.errors import ApplicationError
from dashboard.roles import Role, role_required

from . import services
from .forms import ReviewForm, first_error
from .review_selectors import review_held, review_item
from .selectors import project_get
from .views import page_errors


def _shown(label) -> dict:
    return {"label": label, "annotation_json": json.dumps(label.annotation, indent=2)}


@role_required(Role.REVIEWER)
@page_errors
def review_page(request, project_id: str):
    """GET shows the label the reviewer holds; POST next / accept / reject, then the next."""
    project = project_get(project_id=project_id)
    context: dict = {"project": project}
    label = None
    if request.method == "POST":
        form = ReviewForm(request.POST)
        try:
            if not form.is_valid():
                raise first_error(form)
            action, data = form.cleaned_data["action"], form.cleaned_data
            if action == "accept":
                services.label_accept(project=project, label_id=data["label"], user=request.user)
                messages.success(request, "Label accepted.")
            elif action == "reject":
                services.label_reject(
                    project=project,
                    label_id=data["label"],
                    user=request.user,
                    reason=data["reason"],
                    priority=data["priority"],
                )
                messages.success(request, "Label rejected; its row is re-queued for rework.")
        except ApplicationError as exc:
            context["error"] = exc.message
            context["error_field"] = exc.field
        label = services.review_next(project=project, user=request.user)
    else:
        label = review_held(project=project, user=request.user)
    if label is not None:
        item = review_item(label)
        context.update(
            item=item,
            label=label,
            annotation_json=json.dumps(label.annotation, indent=2),
            others=[_shown(other) for other in item["other_labels"]],
        )
    return render(request, "batches/review.html", context)
