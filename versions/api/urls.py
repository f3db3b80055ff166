"""Dataset, data-row and version endpoints under /api/v1/ (built out by the versions issue)."""

urlpatterns: list = []
