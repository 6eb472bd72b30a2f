"""Importing one ledger (docs/contract.md §10): the core the CLI and the upload page call.

`import_ledger(data, filename, kind, ...)` returns an ImportReport and never raises for bad rows: the
CLI turns a refused report into exit 2, the upload page shows it. All or nothing: with any bad row and
without `skip_bad`, no event is written, and a row with a bad cell (or a date in the future) stops the
file before any name is registered. Logs carry counts only: never a cell, since cells hold names.

Where the events go is a sink, chosen by whoever runs the import (docs/contract.md §10):
- ReplaySink (the standalone `riskwatch import ledger`): the event contract is checked inside the
  same replay that runs the engine over them (one pass), and `riskwatch replay --db`'s storage
  writer stores them, so contributions, alerts and cases follow;
- DeliverSink (`--to-kafka`): checked by the contract alone, handed to the stream's events.raw;
- pipeline/serve/ledger_sink.py (inside `riskwatch serve`): checked by the contract alone, accepted
  as POST /v1/events accepts events, so serve's own engine scores them with the entities' state.
A dry run checks by the contract alone whatever the sink, and writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from pipeline.collector import collector_paused
from pipeline.configset import ConfigSet
from pipeline.contract import Event, Rejection, parse_event
from pipeline.errors import UsageError
from pipeline.ledgers.base import Party
from pipeline.ledgers.convert import ParsedLedger, RowError, build_events, parse_ledger
from pipeline.ledgers.registry import KINDS
from pipeline.ledgers.sheets import read_sheets
from pipeline.storage.models import Event as EventRow

if TYPE_CHECKING:
    from pipeline.replay import ReplayResult

log = logging.getLogger(__name__)
EVENTS = EventRow.__table__
_REASONS = {"future_timestamp": "日期晚于当前时间"}
# The cell an event field came from, to name the column of a contract rejection.
_FIELD_COLUMNS = {"attributes.place": "地点", "attributes.topic": "主题", "attributes.penalty_type": "处罚种类",
                  "attributes.category_text": "隐患类别", "attributes.dispute_type_text": "纠纷类型",
                  "attributes.case_id": "编号", "attributes.hazard_id": "编号", "attributes.petition_id": "编号",
                  "attributes.task_id": "编号"}


class LedgerRefused(UsageError):
    """A ledger with bad rows imported without --skip-bad: nothing was imported (exit 2)."""


@dataclass
class ImportReport:
    kind: str
    sheet: str
    rows: int = 0
    events: int = 0
    new: int = 0
    existing: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    refused: bool = False
    header: list[object] = field(default_factory=list)
    bad_rows: list[tuple[int, list[object]]] = field(default_factory=list)   # for the errors file

    def as_json(self) -> dict:
        return {"rows": self.rows, "events": self.events, "new": self.new, "existing": self.existing,
                "skipped": self.skipped, "errors": [e.as_dict() for e in self.errors]}


Deliver = Callable[[list[bytes]], None]
Rejected = list[tuple[int, Rejection]]     # (index in the lines, the contract's verdict)


class LedgerSink(Protocol):
    """Where an import's events go (see the module's docstring)."""

    def check(self, lines: list[bytes], known: set[str]) -> Rejected:
        """The lines the event contract refuses; `known`: the event_ids stored already."""
        ...

    def write(self, lines: list[bytes], known: set[str]) -> None:
        """Make the events of `lines` (every one accepted by `check`) durable."""
        ...


def contract_rejections(lines: list[bytes], cfg: ConfigSet) -> Rejected:
    """The contract's refusals alone, keeping no parsed event (a dry run of a large ledger)."""
    return [(i, verdict) for i, line in enumerate(lines)
            if type(verdict := parse_event(line, cfg.vocabulary)) is Rejection]


class ContractChecked:
    """A sink that checks by the event contract alone and keeps the parsed events for `write`."""

    def __init__(self, cfg: ConfigSet):
        self.cfg = cfg
        self._parsed: dict[bytes, Event] = {}

    def check(self, lines: list[bytes], known: set[str]) -> Rejected:
        rejected: Rejected = []
        self._parsed = {}
        for i, line in enumerate(lines):
            verdict = parse_event(line, self.cfg.vocabulary)
            if type(verdict) is Rejection:
                rejected.append((i, verdict))
            else:
                self._parsed[line] = cast(Event, verdict)
        return rejected

    def events(self, lines: list[bytes]) -> list[Event]:
        return [self._parsed[line] for line in lines]


class DeliverSink(ContractChecked):
    """Every line (the stored ones too: downstream counts them as duplicates) handed to `deliver`."""

    def __init__(self, cfg: ConfigSet, deliver: Deliver):
        super().__init__(cfg)
        self.deliver = deliver

    def write(self, lines: list[bytes], known: set[str]) -> None:
        self.deliver(lines)


class ReplaySink:
    """The engine over all of the ledger's events (so its results do not depend on what an earlier
    import held), stored by replay's writer: the new events, and every contribution and alert (their
    writes are idempotent). Outside `riskwatch serve` only: a running serve's engine would not see them."""

    def __init__(self, engine: sa.Engine, cfg: ConfigSet):
        self.engine, self.cfg = engine, cfg
        self._ran: tuple[list[bytes], ReplayResult] | None = None

    def check(self, lines: list[bytes], known: set[str]) -> Rejected:
        if len(known) >= len(lines):
            return []      # every event is stored already: nothing to check, score or write
        from pipeline.replay import replay

        result = replay(lines, self.cfg, keep_events=True)
        self._ran = (lines, result)
        return [(number - 1, verdict) for number, verdict in result.rejections]

    def write(self, lines: list[bytes], known: set[str]) -> None:
        from pipeline.replay import replay
        from pipeline.storage.replay_store import entity_records
        from pipeline.storage.writer import Writer

        # the replay of `check` when it ran over exactly these lines (no bad row was left out)
        result = self._ran[1] if self._ran is not None and self._ran[0] is lines else replay(lines, self.cfg,
                                                                                              keep_events=True)
        fresh = [e for e in result.accepted_events or [] if e.event_id not in known]
        writer = Writer(self.engine, assignments=self.cfg.assignments)
        writer.write_levels(self.cfg.rules.levels)
        writer.write_all(events=fresh, rejections=[], contributions=result.contributions,
                         alert_changes=result.alert_changes, entities=entity_records(result, self.cfg))


@collector_paused()     # 100,000 rows held to the end: a third of the CPU went to collections
def import_ledger(
    data: bytes,
    filename: str,
    kind: str,
    *,
    cfg: ConfigSet,
    engine: sa.Engine,
    actor: str,
    sheet: str | None = None,
    dry_run: bool = False,
    skip_bad: bool = False,
    sink: LedgerSink | None = None,
    now: float | None = None,
    max_skew: float = 300.0,
) -> ImportReport:
    """Read `data` (the bytes of an .xlsx or .csv named `filename`) as a ledger of `kind`.

    `engine` holds the persons registry and the events already stored; `sink` receives the new events
    (default: ReplaySink into `engine`); `actor` is who the registry's audit records name. dry_run:
    everything is checked and counted, nothing is written. Raises UsageError for an unknown kind,
    LedgerFileError for an unreadable file.
    """
    ledger_kind = KINDS.get(kind)
    if ledger_kind is None:
        raise UsageError(f"未知的台账种类“{kind}”：应为 {'、'.join(KINDS)} 之一")
    started = time.perf_counter()
    parsed = parse_ledger(read_sheets(data, filename, sheet), ledger_kind, cfg.area)
    _future(parsed, (time.time() if now is None else now) + max_skew)
    report = ImportReport(kind, parsed.sheet, rows=len(parsed.rows), dry_run=dry_run, header=parsed.header)
    if _settle(report, parsed, skip_bad):
        return _done(report, started)
    # Only a file without bad cells gets here, so a refused file never registers anyone; a dry run
    # looks names up and stands new ones in with ids that are never stored.
    names: dict[tuple[str, str], str] = {}
    parties = parsed.parties()
    if parties:
        from pipeline.persons.registry import pseudonyms

        names = pseudonyms(engine, actor, parties, create=not dry_run, context=f"ledger import {kind}")
    fallback = _provisional()
    built = build_events(parsed, lambda p: names.get((p.entity, p.name)) or fallback(p))
    built.sort(key=lambda item: item[1]["occurred_at"])
    lines = [orjson.dumps(doc) for _, doc in built]
    known = _existing(engine, [doc["event_id"] for _, doc in built])
    sink = sink or ReplaySink(engine, cfg)
    rejected = contract_rejections(lines, cfg) if dry_run else sink.check(lines, known)
    if rejected:
        _rejections(parsed, built, rejected)
        if _settle(report, parsed, skip_bad):
            return _done(report, started)
        bad = parsed.bad_rows
        kept = [i for i, (number, _) in enumerate(built) if number not in bad]
        built, lines = [built[i] for i in kept], [lines[i] for i in kept]
    report.events = len(built)
    report.existing = sum(1 for _, doc in built if doc["event_id"] in known)
    report.new = report.events - report.existing
    if not dry_run and report.new:
        sink.write(lines, known)
    return _done(report, started)


def _future(parsed: ParsedLedger, latest: float) -> None:
    """The contract's future_timestamp, said of the row: a date after now (plus the allowed skew)."""
    for row in parsed.good_rows():
        for draft in row.drafts:
            if draft.at.timestamp() > latest:
                column = next((c for c, v in row.identity.items() if v == draft.at), "")
                parsed.errors.append(RowError(row.sheet, row.number, column, _REASONS["future_timestamp"]))
                break


def _rejections(parsed: ParsedLedger, built: list[tuple[int, dict]], rejected: list) -> None:
    by_row = {r.number: r for r in parsed.rows}
    for index, verdict in rejected:
        row = by_row[built[index][0]]
        reason = _REASONS.get(verdict.reason, f"生成的事件未通过校验（{verdict.reason}），请缩短或改正该项")
        column = _FIELD_COLUMNS.get(verdict.reason.partition(":")[2], "")
        parsed.errors.append(RowError(row.sheet, row.number, column, reason))


def _settle(report: ImportReport, parsed: ParsedLedger, skip_bad: bool) -> bool:
    """Bring the report's errors up to date; True when the file is refused (bad rows, no --skip-bad)."""
    bad = parsed.bad_rows
    report.errors = _in_order(parsed)
    report.skipped = len(bad)
    report.bad_rows = [(r.number, r.cells) for r in parsed.rows if r.number in bad]
    report.events = sum(len(r.drafts) for r in parsed.good_rows())
    report.refused = bool(bad) and not skip_bad
    return report.refused


def _done(report: ImportReport, started: float) -> ImportReport:
    _log(report, started)
    return report


def _in_order(parsed: ParsedLedger) -> list[RowError]:
    """Errors by row, then in the ledger's column order."""
    position = {c.name: i for i, c in enumerate(parsed.kind.columns)}
    return sorted(parsed.errors, key=lambda e: (e.row, position.get(e.column, len(position))))


def _provisional() -> Callable[[Party], str]:
    """Stand-in ids for names not (yet) registered: key-like, one per name, never stored."""
    given: dict[tuple[str, str], str] = {}

    def pseudonym(party: Party) -> str:
        key = (party.entity, party.name)
        if key not in given:
            given[key] = f"{'B' if party.entity == 'business' else 'P'}-NEW-{len(given) + 1}"
        return given[key]

    return pseudonym


def _existing(engine: sa.Engine, ids: list[str]) -> set[str]:
    found: set[str] = set()
    column = EVENTS.c.event_id
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # one array parameter: an IN list of 100,000 bound values costs seconds to plan
            query = sa.select(column).where(column == sa.func.any(sa.bindparam("ids", ids, type_=ARRAY(sa.String))))
            return set(conn.execute(query).scalars())
        for start in range(0, len(ids), 5000):
            found.update(conn.execute(sa.select(column).where(column.in_(ids[start:start + 5000]))).scalars())
    return found


def _log(report: ImportReport, started: float) -> None:
    log.info("ledger import kind=%s rows=%d events=%d new=%d existing=%d bad_rows=%d refused=%s dry_run=%s "
             "seconds=%.2f", report.kind, report.rows, report.events, report.new, report.existing, report.skipped,
             report.refused, report.dry_run, time.perf_counter() - started)
