"""Import pages: the import form on the dataset and version pages starts a job and answers
with its live progress (htmx) or redirects to the job page (plain form)."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.errors import ApplicationError
from dashboard.roles import Role, role_required

from ..forms import ImportForm
from ..selectors import dataset_get, version_get
from .start import rows_import_start


def _start(request, *, record_type: str, **target):
    """Start the import into the target (`dataset=` or `version=`) from the page's form."""
    form = ImportForm(request.POST, request.FILES)
    error = None
    if not form.is_valid():
        field, messages = next(iter(form.errors.items()))
        error = {"field": field, "error": messages[0]}
    else:
        try:
            job = rows_import_start(
                record_type=record_type, **target, **form.upload(), user=request.user
            )
        except ApplicationError as exc:
            error = {"field": exc.field, "error": exc.message}
    if error is not None:
        context = {**error, "action": request.path, "record_type": record_type}
        return render(request, "versions/_import_result.html", context, status=400)
    if not request.htmx:
        return redirect("job-detail", job_id=job.pk)
    return render(request, "versions/_import_result.html", {"job": job, "action": request.path})


@role_required(Role.MANAGER)
@require_POST
def dataset_import_view(request, dataset_id: str):
    return _start(request, record_type="data_rows", dataset=dataset_get(dataset_id=dataset_id))


@role_required(Role.MANAGER)
@require_POST
def version_import_view(request, version_id: str):
    return _start(request, record_type="frames", version=version_get(version_id=version_id))
