"""Tables the CLI prints for people (Rich): Chinese headers and words from pipeline/labels.py, times in
Beijing time, and never a cut cell. On a terminal a wide cell folds onto the next line; into a pipe or a
file (where Rich would assume 80 columns and end cells with "…") the table is as wide as it needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for name in columns:
        t.add_column(name, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


def show(renderable: Table, err: bool = False) -> None:
    console = Console(stderr=err)
    if not console.is_terminal:
        width = Console(width=10_000, stderr=err).measure(renderable).maximum
        console = Console(stderr=err, width=max(80, width), soft_wrap=False)
    console.print(renderable)
