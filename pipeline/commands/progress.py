"""Progress of long commands (replay, ledger import, exports, dashboard renders): Rich, on stderr, and only
when stderr is a terminal (never in CI, a pipe or a log file), gone once the command is done."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def shown() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


class Steps:
    """A bar over named steps: `with Steps(n, "周报") as step: step("重点风险对象")`."""

    def __init__(self, total: int, title: str):
        from rich.progress import TimeElapsedColumn

        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True, disable=not shown())
        self.total, self.title = total, title

    def __enter__(self):
        self.progress.start()
        self.task = self.progress.add_task(self.title, total=self.total)
        return self

    def __call__(self, name: str) -> None:
        self.progress.update(self.task, advance=1, description=name)

    def __exit__(self, *exc):
        self.progress.stop()
        return False


@contextlib.contextmanager
def working(text: str) -> Iterator[None]:
    """A spinner with `text` while one long call runs (no count to show)."""
    if not shown():
        yield
        return
    with Console(stderr=True).status(text):
        yield


class LineProgress:
    """Counts lines against an estimate from the file size; updates every 4,096 lines."""

    def __init__(self, path: Path, size: int):
        self.path = path
        self.estimate = max(1, size // 400)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=Console(stderr=True), transient=True,
        )

    def __enter__(self):
        self.progress.start()
        task = self.progress.add_task(self.path.name, total=self.estimate)

        def on_line(number: int) -> None:
            if number & 4095 == 0:
                self.progress.update(task, completed=number, total=max(self.estimate, number))

        return on_line

    def __exit__(self, *exc):
        self.progress.stop()
        return False
