"""The verbs on datasets, versions and frames (`<thing>_<verb>`, keyword-only, atomic), used
alike by the API, the admin, the pages, jobs and commands."""

from .versions import *  # noqa: F401,F403
