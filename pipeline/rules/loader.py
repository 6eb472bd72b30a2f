"""Load `rules.yaml` (docs/contract.md §3) into a RuleSet, refusing the whole file with every error listed.

Each problem names the file, the rule (by id, or by position when the id itself is bad) and the key.
Guardrails are enforced here and cannot be configured away: person rules never match petitions, and
no condition may read a protected attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config_errors import ConfigError, Problems, load_yaml_mapping
from pipeline.contract import Vocabulary
from pipeline.rules.base import Rule
from pipeline.rules.conditions import ConditionProblems, admitted_values, compile_condition
from pipeline.rules.registry import RULE_TYPES
from pipeline.timeutil import duration_seconds

TARGETS = ("person", "business", "location", "building", "checkpoint")
SUBJECT_TARGETS = ("person", "business")
COMMON_FIELDS = (
    "id", "title", "category", "target", "roles", "type", "score",
    "half_life", "alert", "enabled", "description",
)
_RULE_ID = re.compile(r"[a-z0-9-]+")
_CATEGORY = re.compile(r"[a-z][a-z0-9_]*")
_LEVEL_NAME = re.compile(r"[a-z][a-z0-9_]*")
BOTTOM_LEVEL = "low"


@dataclass
class RuleSet:
    half_life: float
    levels: list[tuple[str, float]]          # ascending thresholds, without the implicit "low"
    alert_level: str
    rules: list[Rule]
    source: str = ""
    _index: dict = field(default_factory=dict, repr=False)

    @property
    def enabled(self) -> list[Rule]:
        return [r for r in self.rules if r.enabled]

    def level_of(self, score: float) -> str:
        level = BOTTOM_LEVEL
        for name, threshold in self.levels:
            if score >= threshold:
                level = name
        return level

    def rank(self, level: str) -> int:
        """0 for low, then 1.. in threshold order."""
        if level == BOTTOM_LEVEL:
            return 0
        return 1 + [name for name, _ in self.levels].index(level)

    def relevant(self, kind: str, type_: str) -> list[Rule]:
        """Enabled rules, in file order, any of whose conditions can match this kind and type."""
        key = (kind, type_)
        hit = self._index.get(key)
        if hit is None:
            hit = self._index[key] = [r for r in self.enabled if _may_match(r, kind, type_)]
        return hit


def _may_match(rule: Rule, kind: str, type_: str) -> bool:
    for _, spec in rule.logic.conditions():
        kinds = admitted_values(spec, "kind")
        types = admitted_values(spec, "type")
        if (kinds is None or kind in kinds) and (types is None or type_ in types):
            return True
    return False


def load_rules(path: str | Path, vocab: Vocabulary | None = None) -> RuleSet:
    name = str(path)
    data = load_yaml_mapping(path)
    problem = Problems(name)

    for key in data:
        if key not in ("version", "defaults", "rules"):
            problem(str(key), "unknown key")
    if data.get("version") != 1:
        problem("version", "must be 1")
    half_life, levels, alert_level = _defaults(data.get("defaults") or {}, problem)

    raw_rules = data.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list) or not raw_rules:
        problem("rules", "must be a non-empty list of rules")
        raw_rules = []
    seen: set[str] = set()
    for index, spec in enumerate(raw_rules):
        rule = _rule(index, spec, half_life, seen, vocab, problem)
        if rule is not None:
            rules.append(rule)
    if problem.issues:
        raise ConfigError(problem.issues)
    return RuleSet(half_life, levels, alert_level, rules, source=name)


def _defaults(defaults, problem):
    if not isinstance(defaults, dict):
        problem("defaults", "must be a mapping")
        defaults = {}
    for key in defaults:
        if key not in ("half_life", "levels", "alert_level"):
            problem(f"defaults.{key}", "unknown key")
    half_life = 14 * 86400.0
    if "half_life" in defaults:
        try:
            half_life = duration_seconds(defaults["half_life"])
        except ValueError as exc:
            problem("defaults.half_life", str(exc))
    raw_levels = defaults.get("levels", {"medium": 30, "high": 60, "critical": 90})
    levels: list[tuple[str, float]] = []
    if not isinstance(raw_levels, dict) or not raw_levels:
        problem("defaults.levels", "must be a mapping of level name to threshold")
    else:
        for lname, threshold in raw_levels.items():
            if not isinstance(lname, str) or not _LEVEL_NAME.fullmatch(lname) or lname == BOTTOM_LEVEL:
                problem(f"defaults.levels.{lname}", "level names are lower_snake_case and not 'low'")
            elif isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
                problem(f"defaults.levels.{lname}", "threshold must be a number > 0")
            else:
                levels.append((lname, float(threshold)))
        levels.sort(key=lambda lv: lv[1])
        if len({t for _, t in levels}) != len(levels):
            problem("defaults.levels", "two levels share a threshold")
    alert_level = defaults.get("alert_level", "high")
    if alert_level not in [n for n, _ in levels]:
        problem("defaults.alert_level", f"must be one of the levels ({', '.join(n for n, _ in levels)})")
    return half_life, levels, alert_level


def _rule(index, spec, default_half_life, seen, vocab, problem) -> Rule | None:
    if not isinstance(spec, dict):
        problem(f"rules[{index}]", "must be a mapping")
        return None
    rid = spec.get("id")
    if isinstance(rid, str) and _RULE_ID.fullmatch(rid):
        where = f"rules.{rid}"
        if rid in seen:
            problem(f"{where}.id", "duplicate rule id")
        seen.add(rid)
    else:
        where = f"rules[{index}]"
        problem(f"{where}.id", "required: [a-z0-9-]+")
    before = len(problem.issues)

    rtype = spec.get("type")
    logic_cls = RULE_TYPES.get(rtype)
    if logic_cls is None:
        problem(f"{where}.type", f"unknown rule type {rtype!r} (use one of {', '.join(RULE_TYPES)})")
    allowed = set(COMMON_FIELDS) | set(logic_cls.FIELDS if logic_cls else ())
    for key in spec:
        if key not in allowed:
            problem(f"{where}.{key}", "unknown key")

    title = spec.get("title")
    if not isinstance(title, str) or not title.strip():
        problem(f"{where}.title", "required: a non-empty string")
    category = spec.get("category")
    if not isinstance(category, str) or not _CATEGORY.fullmatch(category):
        problem(f"{where}.category", "required: lower_snake_case")
    target = spec.get("target")
    if target not in TARGETS:
        problem(f"{where}.target", f"must be one of {', '.join(TARGETS)}")
    roles = spec.get("roles")
    if roles is not None:
        if target not in SUBJECT_TARGETS:
            problem(f"{where}.roles", "only for person and business targets")
        elif not isinstance(roles, list) or not roles or not all(isinstance(r, str) and r for r in roles):
            problem(f"{where}.roles", "must be a non-empty list of role names")
    score = spec.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or score <= 0:
        problem(f"{where}.score", "required: a number > 0")
    half_life = default_half_life
    if "half_life" in spec:
        try:
            half_life = duration_seconds(spec["half_life"])
        except ValueError as exc:
            problem(f"{where}.half_life", str(exc))
    for flag in ("alert", "enabled"):
        if flag in spec and not isinstance(spec[flag], bool):
            problem(f"{where}.{flag}", "must be true or false")
    if "description" in spec and not isinstance(spec["description"], str):
        problem(f"{where}.description", "must be a string")

    logic = None
    if logic_cls is not None:
        problems = ConditionProblems()
        logic = logic_cls(spec, problems)
        for key, message in problems:
            problem(f"{where}.{key}", message)
        _check_conditions(where, target, logic, vocab, problem)

    if len(problem.issues) != before or logic is None:
        return None
    return Rule(
        index=index,
        id=rid,
        title=title.strip(),
        category=category,
        target=target,
        roles=frozenset(roles) if roles else None,
        type=rtype,
        score=float(score),
        half_life=half_life,
        alert=spec.get("alert", False),
        enabled=spec.get("enabled", True),
        description=spec.get("description", ""),
        logic=logic,
    )


def _check_conditions(where, target, logic, vocab: Vocabulary | None, problem) -> None:
    for key, spec in logic.conditions():
        kinds = admitted_values(spec, "kind")
        if target == "person" and _admits_petition(spec):
            problem(
                f"{where}.{key}.kind",
                "a rule targeting persons may not match petitions: filing a petition never raises a score",
            )
        if vocab is None:
            continue
        for kind in sorted(k for k in kinds or () if isinstance(k, str)):
            if kind not in vocab.kinds:
                problem(f"{where}.{key}.kind", f"{kind!r} is not a kind of the vocabulary")
        types = admitted_values(spec, "type")
        known = set().union(*(vocab.types_of(k) for k in (kinds or vocab.kinds)))
        for type_ in sorted(t for t in types or () if isinstance(t, str)):
            if type_ not in known:
                problem(f"{where}.{key}.type", f"{type_!r} is not a type of {'/'.join(sorted(kinds or ['any kind']))}")


def _admits_petition(spec) -> bool:
    """Whether the condition's `kind` entry holds for kind `petition`, whatever its operators.

    `admitted_values` only understands a scalar, a list, `{eq}` and `{in}`; a person rule written as
    `{kind: {in: [petition], exists: true}}` or `{kind: {not: {ne: petition}}}` matches petitions just
    the same and must be refused as well (docs/contract.md §3 guardrails).
    """
    if not isinstance(spec, dict) or "kind" not in spec:
        return False
    probe = compile_condition({"kind": spec["kind"]}, "kind", ConditionProblems())
    return probe({"kind": "petition"}, None)
