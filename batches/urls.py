"""Project, batch and queue pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("projects/", views.projects_page, name="project-list"),
]
