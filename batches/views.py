"""Project pages."""

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render

from dashboard.roles import Role, role_required

from .models import Project


@role_required(Role.VIEWER)
def projects_page(request):
    projects = Project.objects.annotate(batch_count=Count("batches")).order_by("-created_at", "-id")
    page = Paginator(projects, 50).get_page(request.GET.get("page"))
    return render(request, "batches/project_list.html", {"page": page})
