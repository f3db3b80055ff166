"""Template filters shared by every page."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Indented JSON, for results and metadata shown to people (escaped by the template)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def seconds(value) -> str:
    """A duration for people: "0.4 s", "12 s", "3 min 5 s", "2 h 10 min"."""
    if value is None:
        return "—"
    value = float(value)
    if value < 10:
        return f"{value:.1f} s"
    total = int(round(value))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def plus_one(value):
    """A 0-based position as people count it (1-based); None stays empty."""
    return "" if value is None else value + 1


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
