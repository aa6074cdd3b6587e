"""How the command line prints: tables that fit the terminal (100 columns at most), and JSON for machines.

A table drops the columns a person can do without (``optional``) when the width is short, then shortens the
longest cells with "…"; the ``--json`` of the same command always has every value, under stable keys.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

#: The widest a table is printed, whatever the terminal (wider is hard to read, and wraps in a mail or a ticket).
MAX_WIDTH = 100
GAP = "  "


@dataclass(frozen=True, slots=True)
class Column:
    """A table's column: its title, whether numbers align right, and whether it may be left out when narrow
    (the higher ``drop_order``, the sooner it goes; 0 never)."""

    title: str
    right: bool = False
    drop_order: int = 0
    min_width: int = 4


def table_width() -> int:
    """The terminal's width, at most ``MAX_WIDTH`` (``COLUMNS`` is honoured, as ``shutil`` does)."""
    columns = shutil.get_terminal_size((MAX_WIDTH, 24)).columns
    if os.environ.get("COLUMNS", "").isdigit():
        columns = int(os.environ["COLUMNS"])
    return max(40, min(MAX_WIDTH, columns))


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in "…" when cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[Any]], *, width: int | None = None) -> list[str]:
    """The table's lines, each at most ``width`` characters (default: ``table_width()``)."""
    width = width or table_width()
    cells = [["" if value is None else str(value).replace("\n", " ") for value in row] for row in rows]
    kept = list(range(len(columns)))

    def natural(index: int) -> int:
        return max([len(columns[index].title), *(len(row[index]) for row in cells)])

    def total(indexes: list[int], widths: dict[int, int]) -> int:
        return sum(widths[i] for i in indexes) + len(GAP) * (len(indexes) - 1)

    widths = {index: natural(index) for index in kept}
    droppable = sorted((i for i in kept if columns[i].drop_order), key=lambda i: -columns[i].drop_order)
    while total(kept, widths) > width and droppable:
        kept.remove(droppable.pop(0))
    while total(kept, widths) > width:
        widest = max(kept, key=lambda i: widths[i] - columns[i].min_width)
        if widths[widest] <= columns[widest].min_width:
            break
        widths[widest] -= 1

    def line(values: Sequence[str]) -> str:
        parts = []
        for index in kept:
            text = shorten(values[index], widths[index])
            parts.append(text.rjust(widths[index]) if columns[index].right else text.ljust(widths[index]))
        return GAP.join(parts).rstrip()

    return [line([column.title for column in columns]), *(line(row) for row in cells)]


def print_table(
    columns: Sequence[Column], rows: Sequence[Sequence[Any]], *, file: TextIO | None = None, width: int | None = None
) -> None:
    for text in render_table(columns, rows, width=width):
        print(text, file=file or sys.stdout)


def print_json(value: Any, *, file: TextIO | None = None) -> None:
    """One JSON document (indented, UTF-8 kept as is); dates and other values as their text."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str), file=file or sys.stdout)
