"""The django-q2 entry point: the task carries only the job id."""

from .runner import run_job

__all__ = ["run_job"]
