"""REST endpoints for datasets, data rows and versions."""
