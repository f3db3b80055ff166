"""The UI side of the business errors: a service's `Invalid`/`Conflict` becomes a form error
on the field it names (or on the form), so pages show the reason where it happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms

from .errors import ApplicationError
from .strict_json import json_parse


def form_call(form: forms.Form, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Run `service(**kwargs)`; on an application error record it on `form`, return None."""
    try:
        return service(**kwargs)
    except ApplicationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return None


class JSONTextField(forms.CharField):
    """A textarea holding JSON; cleaned to the parsed value."""

    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"})

    def __init__(self, *, expect: type | tuple = (dict, list), **kwargs):
        self.expect = expect
        super().__init__(**kwargs)

    def prepare_value(self, value):
        import json

        if isinstance(value, dict | list):
            return json.dumps(value, indent=2, sort_keys=True)
        return value

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None):
            return {} if self.expect is dict else []
        try:
            parsed = json_parse(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from None
        if not isinstance(parsed, self.expect):
            raise forms.ValidationError("Not the expected JSON shape (object or list).")
        return parsed
