"""The table of weekly-review exporters: one small interface, one explicit registration each
(like Alertmanager's notifiers). `--format xlsx,pdf` picks from EXPORTERS by name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from pipeline.exports.pdf import PdfBriefExporter
from pipeline.exports.review import WeeklyReview
from pipeline.exports.xlsx import XlsxExporter


class Exporter(Protocol):
    suffix: str

    def write(self, review: WeeklyReview, path: Path) -> None: ...


EXPORTERS: dict[str, Exporter] = {
    "xlsx": XlsxExporter(),
    "pdf": PdfBriefExporter(),
}


def weekly_file_name(review: WeeklyReview, exporter: Exporter) -> str:
    revealed = "-revealed" if review.revealed else ""
    return f"weekly-review-{review.period.label}{revealed}.{exporter.suffix}"


def write_export(review: WeeklyReview, exporter: Exporter, out: Path) -> Path:
    """Write `review` with `exporter` into directory `out`; the file's path.

    The file is written under a temporary name, created 0600, and renamed into place, so it is never
    seen half-written. A revealed review (names and phone numbers) stays 0600: only the analyst who
    asked may read it. Any other export gets the usual mode (0666 less the umask).
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / weekly_file_name(review, exporter)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=out)
    os.close(fd)
    try:
        exporter.write(review, Path(tmp))
        if not review.revealed:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
