"""A Rich progress bar over the lines of a file, on stderr."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


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
