"""Dataset pages."""

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render

from dashboard.roles import Role, role_required

from .selectors import dataset_list


@role_required(Role.VIEWER)
def datasets_page(request):
    datasets = dataset_list().annotate(
        row_count=Count("data_rows", distinct=True), version_count=Count("versions", distinct=True)
    )
    page = Paginator(datasets, 50).get_page(request.GET.get("page"))
    return render(request, "versions/dataset_list.html", {"page": page})
