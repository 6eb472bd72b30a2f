"""`riskwatch replay EVENTS.jsonl [--config DIR] [--rules FILE] [--until TIME] [--db URL] [--json]`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

from pipeline.commands.common import ConfigDirOpt, RulesOpt, read_config, time_option
from pipeline.errors import UsageError

PROGRESS_MIN_BYTES = 8 * 1024 * 1024


def replay_command(
    events: Annotated[Path, typer.Argument(help="JSON Lines file of events, replayed in file order")],
    config: ConfigDirOpt = None,
    rules: RulesOpt = None,
    until: Annotated[Optional[str], typer.Option(help="End the clock here (RFC 3339) when later than the last event")] = None,
    db: Annotated[
        Optional[str], typer.Option(help="Also store events, rejections, contributions, alerts (SQLAlchemy URL)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON Lines on stdout (docs/contract.md §6)")
    ] = False,
) -> None:
    """Run the rule engine over a file exactly as the stream would, and report scores and alerts."""
    from pipeline.replay import output_records, read_lines, replay

    until_t = time_option(until, "--until")
    if not events.is_file():
        raise UsageError(f"no such file: {events}")
    cfg = read_config(config, rules)
    store = _storage(db, cfg) if db else None
    with _progress(events) as on_line:
        result = replay(read_lines(events), cfg, until=until_t, keep_events=store is not None, on_line=on_line)
    records = list(output_records(result, cfg))
    if store is not None:
        from pipeline.commands.progress import working

        with working("正在写入数据库…"):
            _store(store, result, events)
    if as_json:
        out = sys.stdout.buffer
        for record in records:
            out.write(orjson.dumps(record))
            out.write(b"\n")
        out.flush()
    else:
        from pipeline.commands.replay_report import print_report

        print_report(records, cfg)


def _storage(url: str, cfg):
    """Connect (and check the schema) before reading the input: a bad --db fails fast, in one line."""
    from pipeline.commands.access import db_url
    from pipeline.storage.replay_store import open_replay_store

    return open_replay_store(db_url(url), cfg)


def _store(store, result, events: Path) -> None:
    """Write the replay (rejections keyed by the file's name and line); a database lost meanwhile is one line."""

    store(result, source=events)


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress(path: Path):
    """A Rich progress bar on stderr for long files, only when stderr is a terminal."""
    size = path.stat().st_size
    if size < PROGRESS_MIN_BYTES or not sys.stderr.isatty() or os.environ.get("CI"):
        return _NoProgress()
    from pipeline.commands.progress import LineProgress

    return LineProgress(path, size)
