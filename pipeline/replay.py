"""`riskwatch replay` (docs/contract.md §6): the engine over a JSON Lines file, in file order.

This is the oracle the stream is tested against, so it only reads, validates, de-duplicates and
feeds the engine; everything it reports comes from the engine's outbox and state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pipeline.configset import ConfigSet
from pipeline.contract import Event, Rejection, parse_event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution, Engine
from pipeline.engine.scoring import explain, score_at
from pipeline.settings import load_settings
from pipeline.timeutil import format_utc


@dataclass
class ReplayResult:
    engine: Engine
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejections: list[tuple[int, Rejection]] = field(default_factory=list)
    accepted_events: list[Event] | None = None
    contributions: list[Contribution] = field(default_factory=list)
    alert_changes: list[AlertChange] = field(default_factory=list)

    @property
    def now(self) -> float | None:
        clock = self.engine.clock
        return None if clock == float("-inf") else clock


def read_lines(path) -> Iterator[bytes]:
    """Lines of a JSON Lines file as bytes (undecoded: bad UTF-8 is the contract's to reject)."""
    with open(path, "rb") as fh:
        for line in fh:
            yield line.rstrip(b"\r\n")


def replay(
    lines: Iterable[bytes],
    config: ConfigSet,
    until: float | None = None,
    keep_events: bool = False,
    on_line: Callable[[int], None] | None = None,
    max_skew: float | None = None,
) -> ReplayResult:
    """Run the engine over `lines`. Blank lines are skipped: they are not messages (and not counted).

    An event more than `max_skew` seconds (default: the clock_skew setting) ahead of the wall clock
    when its line is read is rejected as future_timestamp, as in the stream: one line dated 9999 must
    not move the engine's clock and with it every decay and deadline."""
    if max_skew is None:
        max_skew = load_settings().clock_skew_seconds
    engine = Engine(config.rules, config.area, config.assignments)
    result = ReplayResult(engine, accepted_events=[] if keep_events else None)
    vocab = config.vocabulary
    seen: set[str] = set()
    process = engine.process
    contributions, alert_changes = result.contributions, result.alert_changes
    for number, raw in enumerate(lines, start=1):
        if not raw or raw.isspace():
            continue
        result.events += 1
        parsed = parse_event(raw, vocab, max_skew=max_skew)
        if isinstance(parsed, Rejection):
            result.rejections.append((number, parsed))
        elif parsed.event_id in seen:
            result.duplicates += 1
        else:
            seen.add(parsed.event_id)
            result.accepted += 1
            if result.accepted_events is not None:
                result.accepted_events.append(parsed)
            process(parsed)
            if engine.outbox:
                _collect(engine.drain(), contributions, alert_changes)
        if on_line is not None:
            on_line(number)
    engine.finish(until)
    _collect(engine.drain(), contributions, alert_changes)
    return result


def _collect(records, contributions: list, alert_changes: list) -> None:
    for record in records:
        if type(record) is Contribution:
            contributions.append(record)
        else:
            alert_changes.append(record)


def entity_rows(result: ReplayResult, config: ConfigSet) -> list[dict]:
    """Every entity with a (non-negligible) contribution, sorted by score descending, then by ref."""
    now = result.now
    if now is None:
        return []
    rows: list[dict] = []
    for ref, state in result.engine.entities.items():
        parts = explain(state["c"], now)
        if not parts:
            continue
        score = round(score_at(state["c"], now), 2)
        rows.append(
            {
                "type": "entity",
                "entity": ref,
                "score": score,
                "level": config.rules.level_of(score),
                "contributions": [
                    {
                        "rule": p.rule,
                        "points": round(p.points, 2),
                        "value": round(p.value, 2),
                        "at": format_utc(p.at),
                        "events": list(p.events),
                    }
                    for p in parts
                ],
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["entity"]))
    return rows


def output_records(result: ReplayResult, config: ConfigSet) -> Iterator[dict]:
    """The JSON Lines of `replay --json`, in docs/contract.md §6 order."""
    for number, rejection in result.rejections:
        yield {"type": "reject", "line": number, "event_id": rejection.event_id, "reason": rejection.reason}
    alerts_raised = 0
    for change in result.alert_changes:
        if change.change == "attached":
            continue
        alerts_raised += change.change == "raised"
        yield {
            "type": "alert",
            "entity": change.entity,
            "level": change.level,
            "assignee": change.assignee,
            "rules": list(change.rules),
            "at": format_utc(change.at),
        }
    rows = entity_rows(result, config)
    yield from rows
    now = result.now
    yield {
        "type": "summary",
        "events": result.events,
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": len(result.rejections),
        "entities": len(rows),
        "alerts": alerts_raised,
        "now": None if now is None else format_utc(now),
    }
