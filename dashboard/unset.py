"""`UNSET`: the default of a service's optional keyword arguments, which tells "not given"
from None (a value some fields take: a null priority, no project)."""

from typing import Any

UNSET: Any = object()
