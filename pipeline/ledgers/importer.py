"""Importing one ledger (docs/contract.md §10): the core the CLI and the upload page call.

`import_ledger(data, filename, kind, ...)` returns an ImportReport and never raises for bad rows: the
CLI turns a refused report into exit 2, the upload page shows it. All or nothing: with any bad row and
without `skip_bad`, nothing is written (not even registry entries). Events are validated by the event
contract and written by the same storage writer as `riskwatch replay --db` after running the engine
over them, so contributions, alerts and cases follow; or handed to `deliver` (the CLI's --to-kafka).
Logs carry counts only: never a cell, since cells hold names.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from pipeline.configset import ConfigSet
from pipeline.contract import Rejection, parse_event
from pipeline.errors import UsageError
from pipeline.ledgers.base import Party
from pipeline.ledgers.convert import ParsedLedger, RowError, build_events, parse_ledger
from pipeline.ledgers.registry import KINDS
from pipeline.ledgers.sheets import read_sheets
from pipeline.storage.models import Event as EventRow

log = logging.getLogger(__name__)
EVENTS = EventRow.__table__
_REASONS = {"future_timestamp": "日期晚于当前时间", "naive_timestamp": "日期缺少时区"}


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
    deliver: Deliver | None = None,
    now: float | None = None,
    max_skew: float = 300.0,
) -> ImportReport:
    """Read `data` (the bytes of an .xlsx or .csv named `filename`) as a ledger of `kind`.

    `engine` holds the persons registry and, unless `deliver` is given, receives the events; `actor`
    is who the registry's audit records name. dry_run: everything is checked and counted, nothing is
    written. Raises UsageError for an unknown kind, LedgerFileError for an unreadable file.
    """
    ledger_kind = KINDS.get(kind)
    if ledger_kind is None:
        raise UsageError(f"未知的台账种类“{kind}”：应为 {'、'.join(KINDS)} 之一")
    started = time.perf_counter()
    parsed = parse_ledger(read_sheets(data, filename, sheet), ledger_kind, cfg.area)
    # Names already registered get their ids now; new ones a stand-in until the file is known to be
    # good, so a refused file (or a dry run) registers nobody. Rows naming someone new are rebuilt then.
    names: dict[tuple[str, str], str] = {}
    context = f"ledger import {kind}"
    if parsed.parties():
        from pipeline.persons.registry import pseudonyms

        names = pseudonyms(engine, actor, parsed.parties(), create=False, context=context)
    fallback = _provisional()
    checked = _validate(parsed, lambda p: names.get((p.entity, p.name)) or fallback(p), cfg,
                        time.time() if now is None else now, max_skew)
    report = ImportReport(kind, parsed.sheet, rows=len(parsed.rows), dry_run=dry_run, header=parsed.header,
                          errors=_in_order(parsed))
    bad = parsed.bad_rows
    report.skipped = len(bad)
    report.bad_rows = [(r.number, r.cells) for r in parsed.rows if r.number in bad]
    docs = [doc for number, doc in checked if number not in bad]
    report.events = len(docs)
    if bad and not skip_bad:
        report.refused = True
        _log(report, started)
        return report
    missing = parsed.parties() - names.keys()
    if missing and not dry_run:
        from pipeline.persons.registry import pseudonyms

        names.update(pseudonyms(engine, actor, missing, create=True, context=context))
        docs = [doc for _, doc in build_events(parsed, lambda p: names[(p.entity, p.name)])]
    known = _existing(engine, [doc["event_id"] for doc in docs])
    report.existing = len(known)
    report.new = report.events - report.existing
    if not dry_run and report.new:
        docs.sort(key=lambda d: d["occurred_at"])
        lines = [orjson.dumps(doc) for doc in docs]
        if deliver is not None:
            deliver(lines)
        else:
            _store(engine, cfg, lines, known)
    _log(report, started)
    return report


def _validate(parsed: ParsedLedger, pseudonym: Callable[[Party], str], cfg: ConfigSet, now: float,
              max_skew: float) -> list[tuple[int, dict]]:
    """The event contract over every event of the good rows; a rejected event makes its row bad.
    Returns every (row number, document) built."""
    by_row = {r.number: r for r in parsed.rows}
    built = build_events(parsed, pseudonym)
    for number, doc in built:
        verdict = parse_event(orjson.dumps(doc), cfg.vocabulary, now=now, max_skew=max_skew)
        if type(verdict) is Rejection:
            row = by_row[number]
            column = next((c for c, v in row.identity.items()
                           if isinstance(v, datetime) and v.isoformat() == doc["occurred_at"]), "")
            reason = _REASONS.get(verdict.reason, f"生成的事件未通过校验（{verdict.reason}）")
            parsed.errors.append(RowError(row.sheet, number, column, reason))
    return built


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


def _store(engine: sa.Engine, cfg: ConfigSet, lines: list[bytes], known: set[str]) -> None:
    """The engine over all of the ledger's events (so its results do not depend on what an earlier
    import held), stored by replay's writer: the new events, and every contribution and alert (their
    writes are idempotent)."""
    from pipeline.replay import replay
    from pipeline.storage.replay_store import entity_records
    from pipeline.storage.writer import Writer

    result = replay(lines, cfg, keep_events=True)
    fresh = [e for e in result.accepted_events or [] if e.event_id not in known]
    writer = Writer(engine, assignments=cfg.assignments)
    writer.write_levels(cfg.rules.levels)
    writer.write_all(events=fresh, rejections=[], contributions=result.contributions,
                     alert_changes=result.alert_changes, entities=entity_records(result, cfg))


def _log(report: ImportReport, started: float) -> None:
    log.info("ledger import kind=%s rows=%d events=%d new=%d existing=%d bad_rows=%d refused=%s dry_run=%s "
             "seconds=%.2f", report.kind, report.rows, report.events, report.new, report.existing, report.skipped,
             report.refused, report.dry_run, time.perf_counter() - started)
