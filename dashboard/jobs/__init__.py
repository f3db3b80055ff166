"""Background jobs: one way to run any long operation (registry, services, runner, task)."""
