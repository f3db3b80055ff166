"""Field declarations of a record type and the type conversion every bulk import applies.

CSV cells are text: ints, floats, booleans (`true/false/1/0/yes/no`) and JSON-in-a-cell for
dict/list fields are parsed, and an empty cell means "missing". JSON values must have the right
type (a number may stand for a string field; text is parsed as in CSV). `null` means missing.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from dashboard import strict_json

TYPES = ("str", "int", "float", "bool", "dict", "list")
TRUE = {"true", "1", "yes", "y", "t", "on"}
FALSE = {"false", "0", "no", "n", "f", "off"}


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class TextCell(str):
    """The text of a CSV cell kept for its record type to convert (a `<field>.<key>` column,
    e.g. `metadata.age`, whose type only the target knows)."""

    __slots__ = ()


class FieldError(ValueError):
    """A value that cannot be converted; names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "str"
    required: bool = False
    default: Any = MISSING  # a value (copied) or a callable; MISSING = no default
    max_length: int | None = None

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"unknown field type {self.type!r}")

    def default_value(self) -> Any:
        if self.default is MISSING:
            return MISSING
        return self.default() if callable(self.default) else copy.deepcopy(self.default)

    def convert(self, value: Any, *, from_text: bool) -> Any:
        """The typed value, MISSING for an empty cell / null, or FieldError."""
        if value is None or (from_text and value == ""):
            return MISSING
        converted = _CONVERT[self.type](self, value, from_text)
        if self.max_length is not None and len(converted) > self.max_length:
            raise FieldError(self.name, f"at most {self.max_length} characters.")
        return converted


def _str(field: Field, value: Any, from_text: bool) -> str:
    if isinstance(value, str):
        if "\x00" in value:  # PostgreSQL cannot store it (JSON text was checked when read)
            raise FieldError(field.name, "may not contain NUL characters (\\x00).")
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise FieldError(field.name, f"must be a string, not {type_name(value)}.")


def _int(field: Field, value: Any, from_text: bool) -> int:
    if isinstance(value, bool):
        raise FieldError(field.name, "must be an integer, not a boolean.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise FieldError(field.name, f"must be an integer, not {value!r}.")


def _float(field: Field, value: Any, from_text: bool) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise FieldError(field.name, f"must be a number, not {value!r}.") from None
    else:
        raise FieldError(field.name, f"must be a number, not {type_name(value)}.")
    if not math.isfinite(number):
        raise FieldError(field.name, "must be a finite number.")
    return number


def _bool(field: Field, value: Any, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
    raise FieldError(field.name, f"must be true/false/1/0/yes/no, not {value!r}.")


def _json_container(kind: type, label: str):
    def convert(field: Field, value: Any, from_text: bool):
        if isinstance(value, kind):
            return value
        if isinstance(value, str):
            try:
                parsed = strict_json.loads_text(value)
            except ValueError as exc:
                raise FieldError(field.name, f"must be a JSON {label}: {exc}.") from None
            if isinstance(parsed, kind):
                return parsed
        raise FieldError(field.name, f"must be a JSON {label}, not {type_name(value)}.")

    return convert


def type_name(value: Any) -> str:
    """What a refused value is, in the words of an error message ("an integer")."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        TextCell: "a string",
        dict: "an object",
        list: "a list",
    }.get(type(value), type(value).__name__)


_CONVERT = {
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "dict": _json_container(dict, "object"),
    "list": _json_container(list, "list"),
}
