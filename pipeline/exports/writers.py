"""The table of weekly-review exporters: one small interface, one explicit registration each
(like Alertmanager's notifiers). `--format xlsx,pdf` picks from EXPORTERS by name."""

from __future__ import annotations

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
