"""Which entities a rule scores for an event (docs/contract.md §2)."""

from __future__ import annotations

from pipeline.contract import Event
from pipeline.rules.base import Rule

Target = tuple[str, str | None, str | None]   # (entity ref, subject role, building)


def targets_of(rule: Rule, ev: Event) -> list[Target]:
    doc = ev.doc
    loc = doc.get("location") or {}
    building = loc.get("building")
    target = rule.target
    if target in ("person", "business"):
        if target == "person" and ev.kind == "petition":
            # Guardrail: filing a petition or complaint never raises a person's score.
            return []
        out: list[Target] = []
        seen: set[str] = set()
        for s in doc.get("subjects") or ():
            if s["type"] != target or (rule.roles is not None and s["role"] not in rule.roles):
                continue
            ref = f"{target}:{s['id']}"
            if ref not in seen:
                seen.add(ref)
                out.append((ref, s["role"], building))
        return out
    if target == "location":
        lid = loc.get("id")
        return [(f"location:{lid}", None, building)] if lid is not None else []
    if target == "building":
        return [(f"building:{building}", None, building)] if building is not None else []
    cp = loc.get("checkpoint")
    return [(f"checkpoint:{cp}", None, building)] if cp is not None else []


def all_targets(rules: list[Rule], ev: Event) -> list[str]:
    """Every entity any of `rules` could score for this event, in first-seen order (stream fan-out)."""
    seen: dict[str, None] = {}
    for rule in rules:
        for ref, _, _ in targets_of(rule, ev):
            seen.setdefault(ref, None)
    return list(seen)
