"""REST base shared by every app: pagination, errors, job endpoints, 202 responses."""
