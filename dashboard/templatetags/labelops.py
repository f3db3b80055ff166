"""Template filters shared by every page."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Indented JSON, for results and metadata shown to people (escaped by the template)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def compact_json(value) -> str:
    """One-line JSON, for a metadata value that is a list or an object."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def is_scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


@register.filter
def getlist(querydict, key: str) -> list:
    """`request.POST|getlist:"classes"`: every value of a repeated field."""
    return querydict.getlist(key) if hasattr(querydict, "getlist") else []


@register.filter
def get_item(mapping, key):
    """`orders|get_item:order`: a dict's value by a variable key."""
    return mapping.get(key) if hasattr(mapping, "get") else None
