"""The one table of rule types. Adding a type: write its module, add a line here."""

from __future__ import annotations

from pipeline.rules.absence import AbsenceRule
from pipeline.rules.base import RuleLogic
from pipeline.rules.match import MatchRule
from pipeline.rules.sequence import SequenceRule
from pipeline.rules.threshold import ThresholdRule

RULE_TYPES: dict[str, type[RuleLogic]] = {
    "match": MatchRule,
    "threshold": ThresholdRule,
    "sequence": SequenceRule,
    "absence": AbsenceRule,
}
