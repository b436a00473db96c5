"""CSV cells a spreadsheet opens as data, never as a formula (CSV/formula injection).

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some also after a leading
tab or carriage return) as a formula. Text cells that start so get a leading single quote, which
spreadsheets read as "this is text". Numbers are written as numbers: a negative figure is data,
and quoting it would turn it into text that no longer sums.
"""

from datetime import date

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | bool | date | None


def cell(value: Cell) -> str:
    """A value as CSV cell text: None empty, true/false, numbers as numbers, text made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # repr of a float is the shortest text that reads back as the same float.
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return text_cell(value)


def text_cell(text: str) -> str:
    """Text that a spreadsheet shows as text: a leading formula character is neutralised."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
