"""REST endpoints for projects, batches, the queue and labels."""
