"""Shared helpers for the rule-language, engine and replay tests (not a conftest: plain functions).

Test files import it with

    from tests.pipeline import enginekit as ek

Events and rulesets are written as Python dicts; rules go to a tmp YAML file loaded by the real
loader (`load_rules`) or the real config loader (`load_config(dir, rules_file)`), so every test goes
through the same code paths as `riskwatch replay`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import yaml

from pipeline.configset import ConfigSet, load_config
from pipeline.contract import Event, load_vocabulary, parse_event
from pipeline.engine.engine import Engine
from pipeline.replay import output_records, replay
from pipeline.rules.loader import RuleSet, load_rules
from pipeline.settings import DEFAULT_CONFIG_DIR
from pipeline.timeutil import parse_time

CST = timezone(timedelta(hours=8))
#: 2024-11-05T09:00:00+08:00 = 2024-11-05T01:00:00Z, the origin of every relative time below
T0 = datetime(2024, 11, 5, 9, 0, 0, tzinfo=CST)
T0_EPOCH = T0.timestamp()
S, M, H, D = 1, 60, 3600, 86400

DEFAULT_LEVELS = {"medium": 30, "high": 60, "critical": 90}


def iso(offset: float = 0) -> str:
    """RFC 3339 (+08:00) of T0 + offset seconds."""
    return (T0 + timedelta(seconds=offset)).isoformat()


def utc(offset: float = 0) -> str:
    """The contract's output form (UTC with Z) of T0 + offset seconds."""
    dt = (T0 + timedelta(seconds=offset)).astimezone(timezone.utc).replace(tzinfo=None)
    return dt.isoformat() + "Z"


def epoch(offset: float = 0) -> float:
    return T0_EPOCH + offset


# -- events -----------------------------------------------------------------------------------


def event(
    event_id: str,
    kind: str,
    type_: str,
    at: float = 0,
    *,
    source: str = "test",
    location: dict | None = None,
    loc: str | None = None,
    building: str | None = None,
    checkpoint: str | None = None,
    subjects: list | None = None,
    person: str | None = None,
    business: str | None = None,
    role: str = "party",
    **fields,
) -> dict:
    """An event dict; `at` is seconds after T0. Shorthands: loc/building/checkpoint, person/business."""
    doc = {"event_id": event_id, "kind": kind, "type": type_, "occurred_at": iso(at), "source": source}
    place = dict(location or {})
    if loc is not None:
        place["id"] = loc
    if building is not None:
        place["building"] = building
    if checkpoint is not None:
        place["checkpoint"] = checkpoint
    if place:
        doc["location"] = place
    subs = list(subjects or [])
    if person is not None:
        subs.append({"type": "person", "id": person, "role": role})
    if business is not None:
        subs.append({"type": "business", "id": business, "role": role})
    if subs:
        doc["subjects"] = subs
    doc.update(fields)
    return doc


def parse_time_of(doc: dict) -> float:
    """Epoch seconds of an event dict's occurred_at."""
    return parse_time(doc["occurred_at"]).timestamp()


def jsonl(events) -> list[bytes]:
    """Lines as `replay` reads them; str items are taken verbatim (for malformed lines)."""
    out = []
    for e in events:
        out.append(e.encode() if isinstance(e, str) else e if isinstance(e, bytes) else orjson.dumps(e))
    return out


def write_jsonl(path: Path, events) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in jsonl(events)))
    return path


# -- rules and config --------------------------------------------------------------------------


def rule(rid: str, type_: str = "match", *, target: str = "location", score: float = 10, **fields) -> dict:
    """A rule mapping with the common fields filled in."""
    spec = {"id": rid, "title": f"rule {rid}", "category": fields.pop("category", "safety"), "target": target,
            "type": type_, "score": score}
    spec.update(fields)
    return spec


def rules_doc(rules: list[dict], **defaults) -> dict:
    merged = {"half_life": "14d", "levels": dict(DEFAULT_LEVELS), "alert_level": "high"}
    merged.update(defaults)
    return {"version": 1, "defaults": merged, "rules": rules}


def write_yaml(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_rules(tmp_path: Path, rules: list[dict], name: str = "rules.yaml", **defaults) -> Path:
    return write_yaml(Path(tmp_path) / name, rules_doc(rules, **defaults))


def vocabulary():
    return load_vocabulary(DEFAULT_CONFIG_DIR / "vocabulary.yaml")


def ruleset(tmp_path: Path, rules: list[dict], **defaults) -> RuleSet:
    return load_rules(write_rules(tmp_path, rules, **defaults), vocabulary())


def config(
    tmp_path: Path,
    rules: list[dict] | None = None,
    *,
    area: dict | None = None,
    assignments: dict | None = None,
    full: bool = False,
    **defaults,
) -> ConfigSet:
    """A ConfigSet: custom rules (and optionally area / assignments), the rest from the project's config/.

    With only custom rules at the default levels, the project's vocabulary, area and assignments are
    loaded once per session (`load_config` of the project) and reused; everything else goes through
    `load_config(dir, rules_file)` itself.
    """
    if (
        rules is not None and area is None and assignments is None and not full
        and defaults.get("levels", DEFAULT_LEVELS) == DEFAULT_LEVELS
    ):
        base = project_config()
        rs = load_rules(write_rules(Path(tmp_path) / "cfg", rules, **defaults), base.vocabulary)
        return ConfigSet(base.vocabulary, base.area, rs, base.assignments)
    cfg_dir = Path(tmp_path) / "cfg"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    rules_file = None
    if rules is not None:
        rules_file = write_rules(cfg_dir, rules, **defaults)
    if area is not None:
        write_yaml(cfg_dir / "area.yaml", area)
    if assignments is not None:
        write_yaml(cfg_dir / "assignments.yaml", assignments)
    return load_config(cfg_dir, rules_file)


_PROJECT: list[ConfigSet] = []


def project_config() -> ConfigSet:
    """The project's own config/ (loaded once)."""
    if not _PROJECT:
        _PROJECT.append(load_config(None, None))
    return _PROJECT[0]


def project_area_with(**changes) -> dict:
    """The project's area.yaml as a dict, with top-level keys replaced."""
    data = yaml.safe_load((DEFAULT_CONFIG_DIR / "area.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    return data


# -- running ----------------------------------------------------------------------------------


def run(cfg: ConfigSet, events, until: float | None = None):
    """Replay `events` (dicts or raw lines); `until` is seconds after T0. Returns the ReplayResult."""
    return replay(jsonl(events), cfg, until=None if until is None else epoch(until))


def records(cfg: ConfigSet, events, until: float | None = None) -> list[dict]:
    """The `replay --json` records, JSON-normalised (exactly what a consumer parses)."""
    result = run(cfg, events, until)
    return [json.loads(orjson.dumps(r)) for r in output_records(result, cfg)]


def of_type(recs: list[dict], type_: str) -> list[dict]:
    return [r for r in recs if r["type"] == type_]


def entity_line(recs: list[dict], ref: str) -> dict | None:
    for r in recs:
        if r["type"] == "entity" and r["entity"] == ref:
            return r
    return None


def parsed(cfg: ConfigSet, doc: dict) -> Event:
    ev = parse_event(orjson.dumps(doc), cfg.vocabulary)
    assert isinstance(ev, Event), ev
    return ev


def engine(cfg: ConfigSet) -> Engine:
    return Engine(cfg.rules, cfg.area, cfg.assignments)


def feed(eng: Engine, cfg: ConfigSet, events) -> list:
    """Process event dicts in order; returns everything the engine emitted (drained)."""
    out = []
    for doc in events:
        eng.process(parsed(cfg, doc))
        out.extend(eng.drain())
    return out


def contributions(eng: Engine, ref: str) -> list[list]:
    state = eng.entities.get(ref)
    return [] if state is None else state["c"]


def fired(eng_or_result, ref: str | None = None, rule: str | None = None) -> list:
    """Contribution records (from an Engine's entities, or a ReplayResult) filtered by entity / rule."""
    recs = getattr(eng_or_result, "contributions", eng_or_result)
    return [c for c in recs if (ref is None or c.entity == ref) and (rule is None or c.rule == rule)]
