"""Scores with exponential decay (docs/contract.md §4) and their explanation.

A contribution is stored as [rule_id, points, fired_at, [event ids], half_life_seconds].
Contributions worth less than NEGLIGIBLE are left out of scores and explanations; since worth only
decays, this makes every score independent of when pruning happened to run.
"""

from __future__ import annotations

from dataclasses import dataclass

NEGLIGIBLE = 0.01


def worth(contribution: list, now: float) -> float:
    _, points, fired_at, _, half_life = contribution
    return points * 0.5 ** ((now - fired_at) / half_life)


def score_at(contributions: list[list], now: float) -> float:
    # Inlined worth(): this runs on every firing and dominates replay time for busy entities.
    total = 0.0
    for _, points, fired_at, _, half_life in contributions:
        w = points * 0.5 ** ((now - fired_at) / half_life)
        if w >= NEGLIGIBLE:
            total += w
    return total


def prune(contributions: list[list], now: float) -> list[list]:
    return [c for c in contributions if c[1] * 0.5 ** ((now - c[2]) / c[4]) >= NEGLIGIBLE]


@dataclass(frozen=True)
class Explained:
    rule: str
    points: float
    value: float
    at: float
    events: tuple[str, ...]


def explain(contributions: list[list], now: float) -> list[Explained]:
    """The contributions that make up the score at `now`, in firing order."""
    out = []
    for c in contributions:
        w = worth(c, now)
        if w >= NEGLIGIBLE:
            out.append(Explained(c[0], c[1], w, c[2], tuple(c[3])))
    return out
