"""Progress of long commands: shown on a terminal's stderr only, never in a pipe, a log or CI."""

from __future__ import annotations

import sys

from pipeline.commands import progress


class _Tty:
    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_shown_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert progress.shown()
    with progress.Steps(2, "周报") as step:
        assert not step.progress.disable
        step("重点风险对象")
    monkeypatch.setenv("CI", "1")
    assert not progress.shown()


def test_silent_in_a_pipe(monkeypatch, capsys):
    monkeypatch.delenv("CI", raising=False)
    with progress.Steps(2, "周报") as step:
        assert step.progress.disable
        step("a")
    with progress.working("正在导入…"):
        pass
    assert capsys.readouterr().err == ""
