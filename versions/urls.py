"""Dataset and version pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("datasets/", views.datasets_page, name="dataset-list"),
]
