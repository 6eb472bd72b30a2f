"""write_export: a revealed review is written 0600 from its first byte; no half-written or temporary file stays."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.exports.writers import write_export


@dataclass(frozen=True)
class _Period:
    label: str = "2024-W45"


@dataclass
class _Review:
    revealed: bool
    period: _Period = _Period()


class _Exporter:
    suffix = "txt"

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.modes: list[int] = []

    def write(self, review, path: Path) -> None:
        self.modes.append(stat.S_IMODE(path.stat().st_mode))  # the file exists before a byte is written
        path.write_text("李秀兰 13987654321" if review.revealed else "P-0101", encoding="utf-8")
        if self.fail:
            raise RuntimeError("disk full")


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_revealed_is_0600_from_the_start(tmp_path, umask_022):
    exporter = _Exporter()
    path = write_export(_Review(revealed=True), exporter, tmp_path / "out")
    assert path.name == "weekly-review-2024-W45-revealed.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and exporter.modes == [0o600]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_plain_export_gets_the_usual_mode(tmp_path, umask_022):
    path = write_export(_Review(revealed=False), _Exporter(), tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_replacing_an_older_world_readable_file_leaves_it_private(tmp_path, umask_022):
    old = tmp_path / "weekly-review-2024-W45-revealed.txt"
    old.write_text("old")
    old.chmod(0o644)
    path = write_export(_Review(revealed=True), _Exporter(), tmp_path)
    assert path == old and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        write_export(_Review(revealed=True), _Exporter(fail=True), tmp_path)
    assert list(tmp_path.iterdir()) == []
