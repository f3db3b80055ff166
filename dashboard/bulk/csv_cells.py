"""CSV cells that a spreadsheet will not run as formulas (OWASP's advice on CSV injection), and
the exact way back for imports.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets. An export prefixes such a cell with one single quote `'`;
it also prefixes a cell that starts with one or more quotes followed by one of those characters
(`'=x` → `''=x`), so that the rule can be undone exactly: an import removes one leading quote
from a cell that starts with one or more quotes followed by one of them, and leaves every other
cell (`'tis`, `''`, a lone `'`) as it is. Exporting and importing again gives back every string.
Typed numbers (`-2`, `-0.5`) are written as they are: a spreadsheet reads them as numbers, and
a formula cannot hide in one.
"""

from __future__ import annotations

import re

FORMULA_START = "=+-@\t\r"
_QUOTE_OR_FORMULA = "'" + FORMULA_START
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")


def csv_escape(text: str) -> str:
    """The cell to write for a text value."""
    if text[:1] in _QUOTE_OR_FORMULA and text and _NEEDS_QUOTE.match(text):
        return "'" + text
    return text


def csv_unescape(cell: str) -> str:
    """The text value of a cell that `csv_escape` wrote (any other cell as it is)."""
    if cell[:1] == "'" and _QUOTED.match(cell):
        return cell[1:]
    return cell
