"""Project, batch and queue endpoints under /api/v1/ (built out by the batches issue)."""

urlpatterns: list = []
