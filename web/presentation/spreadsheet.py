"""CSV for people who open it in a spreadsheet: text a spreadsheet would run as a formula stays text.

Report rows hold visitors' searches and writers' titles; a cell starting with "=", "+", "-", "@", a tab or a
carriage return is run as a formula by Excel and LibreOffice (CSV injection), so it gets a leading "'".
The BOM in front of a whole file makes Excel read it as UTF-8.
"""

from __future__ import annotations

BOM = "\ufeff"
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_row(row: dict) -> dict:
    """A row with every text cell made safe; in a list (searches), each item."""
    return {k: [safe_cell(x) for x in v] if isinstance(v, list) else safe_cell(v) for k, v in row.items()}


def safe_cell(v):
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA) else v
