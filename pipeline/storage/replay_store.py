"""`riskwatch replay --db URL`: store a replay's accepted events, rejections, contributions and alerts.

`open_replay_store` connects and checks the schema at once, before the replay runs, so a database
that cannot be reached or is at the wrong migration stops the command early with one line
(StorageUnavailable / SchemaOutdated from pipeline.storage.db). SQLite, the embedded default, is
created and upgraded; PostgreSQL must be at the head (`riskwatch db upgrade --db URL`).

Replaying the same file twice into the same database leaves the same rows (docs/contract.md §6): every row is
keyed by what it is (event id, contribution identity, alert id, file name + line).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pipeline.configset import ConfigSet
from pipeline.rawcopy import RawCopy, bounded_copy
from pipeline.replay import ReplayResult, read_lines
from pipeline.storage.db import open_database
from pipeline.storage.rows import EntityRecord, RejectedMessage
from pipeline.storage.writer import Writer

DEFAULT_SOURCE = "replay"


class ReplayStore:
    """Callable that stores one ReplayResult; `source` (the events file) names where rejections came
    from (file name + line number) and lets their raw lines be kept."""

    def __init__(self, url: str, cfg: ConfigSet, batch_size: int = 20_000):
        self.engine = open_database(url)
        self.writer = Writer(self.engine, batch_size=batch_size, assignments=cfg.assignments)
        self.cfg = cfg

    def __call__(self, result: ReplayResult, source: str | os.PathLike | None = None) -> None:
        if result.accepted_events is None:
            raise ValueError("replay must run with keep_events=True to be stored")
        try:
            self.writer.write_levels(self.cfg.rules.levels)
            self.writer.write_all(
                events=result.accepted_events,
                rejections=rejected_messages(result, source),
                contributions=result.contributions,
                alert_changes=result.alert_changes,
                entities=entity_records(result, self.cfg),
            )
        finally:
            self.engine.dispose()


def open_replay_store(url: str, cfg: ConfigSet) -> Callable[..., None]:
    """Connect to `url` and check its schema now; returns store(result, source=None).
    Raises StorageUnavailable or SchemaOutdated (one-line messages, password masked)."""
    return ReplayStore(url, cfg)


def entity_records(result: ReplayResult, cfg: ConfigSet) -> list[EntityRecord]:
    """Every entity with a contribution or an alert, with its building and area multiplier."""
    buildings: dict[str, str | None] = {}
    for c in result.contributions:
        if c.building is not None or c.entity not in buildings:
            buildings[c.entity] = c.building
    for ch in result.alert_changes:
        buildings.setdefault(ch.entity, None)
    for ref, state in result.engine.entities.items():
        if ref in buildings and buildings[ref] is None:
            buildings[ref] = state.get("b")
    return [EntityRecord(ref, b, cfg.area.multiplier(ref, b)) for ref, b in buildings.items()]


def rejected_messages(result: ReplayResult, source: str | os.PathLike | None) -> list[RejectedMessage]:
    """Rejections as (file name, line number); the raw line is re-read from the file when it is known."""
    if not result.rejections:
        return []
    name = Path(source).name if source is not None else DEFAULT_SOURCE
    raw = _lines(Path(source), {n for n, _ in result.rejections}) if source is not None else {}
    return [
        RejectedMessage(
            source=name,
            position=number,
            reason=rej.reason,
            event_id=rej.event_id,
            detail=rej.detail or None,
            raw=raw[number].prefix if number in raw else None,
            raw_length=raw[number].length if number in raw else None,
            raw_sha256=raw[number].sha256 if number in raw else None,
        )
        for number, rej in result.rejections
    ]


def _lines(path: Path, wanted: set[int]) -> dict[int, RawCopy]:
    """Bounded copies of the wanted lines: a file of huge rejected lines is never held whole."""
    if not path.is_file():
        return {}
    out: dict[int, RawCopy] = {}
    last = max(wanted)
    for number, line in enumerate(read_lines(path), start=1):
        if number in wanted:
            out[number] = bounded_copy(line)
        if number >= last:
            break
    return out
