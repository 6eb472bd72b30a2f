"""Black-box helpers for the acceptance tests: run the CLI as a user would, write event files, and
build small events. Nothing here imports the product beyond its command-line entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
RISKWATCH = str(Path(sys.executable).with_name("riskwatch"))


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def cli(*args: str | Path) -> Run:
    """`riskwatch ARGS` in this process (typer's runner on pipeline.cli:app), stdout and stderr apart."""
    from pipeline.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def cli_process(*args: str | Path, env: dict[str, str] | None = None) -> Run:
    """`riskwatch ARGS` as a separate process, as another system would call it."""
    done = subprocess.run([RISKWATCH, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    return Run(done.returncode, done.stdout, done.stderr)


def write_events(path: Path, events: Sequence[dict[str, Any] | str]) -> Path:
    """A JSON Lines file: dicts are dumped, strings written as they are (for broken lines)."""
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e, ensure_ascii=False)) + "\n" for e in events),
                    encoding="utf-8")
    return path


def event(event_id: str, kind: str, type_: str, at: str, source: str = "patrol-app", **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "kind": kind, "type": type_, "occurred_at": at, "source": source, **fields}


def sqlite_db(tmp: Path, name: str = "rw.db") -> str:
    """A migrated SQLite database (other commands refuse a missing file)."""
    url = f"sqlite:///{tmp / name}"
    run = cli("db", "upgrade", "--db", url)
    assert run.code == 0, run.stderr
    return url
