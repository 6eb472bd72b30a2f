"""Helpers shared by the serve/ingest tests (unit and integration): post a file over HTTP in its
order with one token per source, and read the tables replay and serve both write, for comparing."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import orjson
import sqlalchemy as sa

from pipeline.ingest import sources

NDJSON = {"Content-Type": "application/x-ndjson"}


def source_of(line: bytes) -> str | None:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    value = doc.get("source") if isinstance(doc, dict) else None
    return value if isinstance(value, str) and 1 <= len(value) <= 64 else None


def tokens_for(engine: sa.Engine, lines: Iterable[bytes]) -> dict[str | None, str]:
    """A token per source value found in `lines` (None: the token for lines without a readable source)."""
    found = sorted({s for s in map(source_of, lines) if s is not None}) or ["unknown"]
    tokens: dict[str | None, str] = {s: sources.create(engine, f"src-{i}", s, created_by="test") for i, s in enumerate(found)}
    tokens[None] = tokens[found[0]]
    return tokens


def requests_in_order(lines: list[bytes], tokens: dict[str | None, str], batch: int = 500) -> list[tuple[str, bytes]]:
    """(token, NDJSON body) per request: runs of consecutive non-blank lines of one source, at most
    `batch` lines each, so that posting them one after the other accepts events in file order."""
    out: list[tuple[str, bytes]] = []
    run: list[bytes] = []
    run_token: str | None = None
    for line in lines:
        if not line.strip():
            continue
        token = tokens[source_of(line)] if source_of(line) in tokens else tokens[None]
        if run and (token != run_token or len(run) >= batch):
            out.append((run_token or "", b"\n".join(run) + b"\n"))
            run = []
        run_token = token
        run.append(line)
    if run:
        out.append((run_token or "", b"\n".join(run) + b"\n"))
    return out


def post_all(post: Callable[[str, bytes], dict], lines: list[bytes], tokens: dict[str | None, str]) -> tuple[int, int]:
    """Post `lines` in order; returns (accepted, rejected) as the responses counted them."""
    accepted = rejected = 0
    for token, body in requests_in_order(lines, tokens):
        answer = post(token, body)
        accepted += answer["accepted"]
        rejected += answer["rejected"]
    return accepted, rejected


def stored_rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    """The rows replay --db and serve both write, in a comparable form (no surrogate ids, no wall times)."""
    queries = {
        "events": "SELECT event_id, kind, type, source, building, location_id FROM events",
        "contributions": "SELECT id, entity, rule, category, round(points, 6), fired_at, half_life_s, building "
                         "FROM contributions",
        "entities": "SELECT ref, type, id, building, criticality FROM entities",
        "alerts": "SELECT alert_id, entity, level, assignee, round(score, 4), raised_at, status FROM alerts",
        "alert_history": "SELECT alert_id, action, level, actor, at FROM alert_history",
    }
    with engine.connect() as conn:
        return {name: sorted(tuple(str(v) for v in row) for row in conn.execute(sa.text(sql)).all())
                for name, sql in queries.items()}


def backlog(engine: sa.Engine) -> int:
    """Accepted inbox rows the engine loop has not stored the results of yet."""
    with engine.connect() as conn:
        value = conn.execute(sa.text("SELECT next_offset FROM processed_positions WHERE topic = 'serve.inbox'")).scalar()
        last = conn.execute(sa.text("SELECT max(seq) FROM serve_inbox")).scalar()
    return int(last or 0) - (int(value or 1) - 1)
