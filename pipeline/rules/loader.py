"""Load `rules.yaml` (docs/contract.md §3) into a RuleSet, refusing the whole file with every error listed.

Each problem names the file, the rule (by id, or by position when the id itself is bad) and the key.
Guardrails are enforced here and cannot be configured away: person rules never match petitions, and
no condition may read a protected attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from pipeline.config_errors import ConfigError, ConfigIssue, issues_from_validation_error, load_yaml_mapping
from pipeline.contract import Vocabulary
from pipeline.rules.base import Rule
from pipeline.rules.conditions import ConditionProblems, admitted_values, compile_condition
from pipeline.rules.registry import RULE_TYPES
from pipeline.rules.spec import Duration, RuleSpec

_RULE_ID = re.compile(r"[a-z0-9-]+")
BOTTOM_LEVEL = "low"
DEFAULT_HALF_LIFE = 14 * 86400.0


def _level_name(name: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name == BOTTOM_LEVEL:
        raise ValueError(f"level names are lower_snake_case and not {BOTTOM_LEVEL!r}")
    return name


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    half_life: Duration = DEFAULT_HALF_LIFE
    levels: Annotated[
        dict[Annotated[str, AfterValidator(_level_name)], Annotated[float, Field(gt=0)]], Field(min_length=1)
    ] = {"medium": 30.0, "high": 60.0, "critical": 90.0}
    alert_level: str = "high"


class RulesFile(BaseModel):
    """rules.yaml around its rules; each rule is checked on its own (RULE_SPEC) so that its problems
    are keyed by its id."""

    model_config = ConfigDict(extra="forbid", strict=True)

    version: Literal[1]
    defaults: Any = None  # checked on its own (Defaults), so its problems are listed with the rest
    rules: Annotated[list[Any], Field(min_length=1)]


# One model per rule type, chosen by `type` (pipeline/rules/registry.py lists the types).
_SPECS = tuple(t.Spec for t in RULE_TYPES.values())
RULE_SPEC: TypeAdapter[RuleSpec] = TypeAdapter(Annotated[Union[_SPECS], Field(discriminator="type")])  # type: ignore[arg-type]


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
    issues: list[ConfigIssue] = []
    try:
        RulesFile.model_validate(data)
    except ValidationError as exc:
        issues += issues_from_validation_error(name, exc, brackets=True)
    defaults = _defaults(name, data.get("defaults"), issues)
    rules: list[Rule] = []
    seen: set[str] = set()
    raw_rules = data.get("rules")
    for index, spec in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        rule = _rule(name, index, spec, defaults, seen, vocab, issues)
        if rule is not None:
            rules.append(rule)
    if issues:
        raise ConfigError(issues)
    levels = sorted(defaults.levels.items(), key=lambda lv: lv[1])
    return RuleSet(defaults.half_life, levels, defaults.alert_level, rules, source=name)


def _defaults(name: str, raw: Any, issues: list[ConfigIssue]) -> Defaults:
    """The `defaults` mapping (the built-in ones when it is absent); problems go to `issues`."""
    try:
        defaults = Defaults.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        issues += issues_from_validation_error(name, exc, "defaults")
        levels = raw.get("levels") if isinstance(raw, dict) else None
        alert_level = raw.get("alert_level") if isinstance(raw, dict) else None
        if isinstance(levels, dict) and isinstance(alert_level, str) and alert_level not in levels:
            issues.append(ConfigIssue(name, "defaults.alert_level", f"must be one of the levels ({', '.join(map(str, levels))})"))
        return Defaults()
    if len(set(defaults.levels.values())) != len(defaults.levels):
        issues.append(ConfigIssue(name, "defaults.levels", "two levels share a threshold"))
    if defaults.alert_level not in defaults.levels:
        issues.append(ConfigIssue(name, "defaults.alert_level", f"must be one of the levels ({', '.join(defaults.levels)})"))
    return defaults


def _rule(name: str, index: int, spec: Any, defaults: Defaults, seen: set[str], vocab: Vocabulary | None,
          issues: list[ConfigIssue]) -> Rule | None:
    """The rule at `index`, or None with its problems appended to `issues` (keyed `rules.<id>.<key>`,
    or `rules[<index>]` while the id itself is unusable)."""
    rid = spec.get("id") if isinstance(spec, dict) else None
    where = f"rules.{rid}" if isinstance(rid, str) and _RULE_ID.fullmatch(rid) else f"rules[{index}]"
    before = len(issues)
    if isinstance(rid, str) and where == f"rules.{rid}":
        if rid in seen:
            issues.append(ConfigIssue(name, f"{where}.id", "duplicate rule id"))
        seen.add(rid)
    try:
        model = RULE_SPEC.validate_python(spec)
    except ValidationError as exc:
        tagged = isinstance(spec, dict) and isinstance(spec.get("type"), str) and spec["type"] in RULE_TYPES
        found = issues_from_validation_error(name, exc, where, brackets=True, skip=1 if tagged else 0)
        issues += [_type_issue(i, where) for i in found]
        return None
    problems = ConditionProblems(model.cross_field_problems())
    logic = RULE_TYPES[model.type](model, problems)
    _check_conditions(model.target, logic, vocab, problems)
    issues += [ConfigIssue(name, f"{where}.{key}", message) for key, message in problems]
    if len(issues) != before:
        return None
    return Rule(
        index=index,
        id=model.id,
        title=model.title.strip(),
        category=model.category,
        target=model.target,
        roles=frozenset(model.roles) if model.roles else None,
        type=model.type,
        score=float(model.score),
        half_life=defaults.half_life if model.half_life is None else model.half_life,
        alert=model.alert,
        enabled=model.enabled,
        description=model.description,
        logic=logic,
    )


def _type_issue(issue: ConfigIssue, where: str) -> ConfigIssue:
    """A missing or unknown `type` is reported at the rule itself by pydantic: say it at `.type`."""
    if issue.key != where or issue.message.startswith("Input should be a valid dictionary"):
        return issue
    return ConfigIssue(issue.file, f"{where}.type", f"unknown rule type (use one of {', '.join(RULE_TYPES)})")


def _check_conditions(target: str, logic, vocab: Vocabulary | None, problem: ConditionProblems) -> None:
    for key, spec in logic.conditions():
        kinds = admitted_values(spec, "kind")
        if target == "person" and _admits_petition(spec):
            problem.add(
                f"{key}.kind",
                "a rule targeting persons may not match petitions: filing a petition never raises a score",
            )
        if vocab is None:
            continue
        for kind in sorted(k for k in kinds or () if isinstance(k, str)):
            if kind not in vocab.kinds:
                problem.add(f"{key}.kind", f"{kind!r} is not a kind of the vocabulary")
        types = admitted_values(spec, "type")
        known = set().union(*(vocab.types_of(k) for k in (kinds or vocab.kinds)))
        for type_ in sorted(t for t in types or () if isinstance(t, str)):
            if type_ not in known:
                problem.add(f"{key}.type", f"{type_!r} is not a type of {'/'.join(sorted(kinds or ['any kind']))}")


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
