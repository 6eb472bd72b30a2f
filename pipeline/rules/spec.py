"""The shape of one rule in rules.yaml (docs/contract.md §3): the fields every rule has, as a pydantic model.

Each rule type subclasses `RuleSpec` with its own fields and a `type` literal (pipeline/rules/match.py,
threshold.py, sequence.py, absence.py); rules.yaml picks the model by `type`. Conditions (`when`,
`steps`, `start`, `expect`) stay plain data here: their language is checked by conditions.py when
the rule type compiles them, so the problems of both land in the same ConfigError.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from pipeline.timeutil import duration_seconds

TARGETS = ("person", "business", "location", "building", "checkpoint")
SUBJECT_TARGETS = ("person", "business")


def _seconds(value: Any) -> float:
    if not isinstance(value, str):
        raise ValueError("must be a duration such as 90s, 6h or 14d")
    return duration_seconds(value)


# "90s", "14d", ...: a string in the file, seconds once loaded.
Duration = Annotated[float, BeforeValidator(_seconds)]
PositiveInt = Annotated[int, Field(strict=True, ge=1)]
# A condition of the rule language (pipeline/rules/conditions.py checks it).
Condition = Any


class RuleSpec(BaseModel):
    """Fields every rule has. `half_life` is seconds, None for the file's default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    title: Annotated[str, Field(pattern=r"\S")]
    category: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    target: Literal["person", "business", "location", "building", "checkpoint"]
    roles: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    type: str
    score: Annotated[float, Field(gt=0)]
    half_life: Duration | None = None
    alert: StrictBool = False
    enabled: StrictBool = True
    description: str = ""

    def cross_field_problems(self) -> list[tuple[str, str]]:
        """(key, message) for what one field cannot say alone; rule types add their own."""
        if self.roles is not None and self.target not in SUBJECT_TARGETS:
            return [("roles", "only for person and business targets")]
        return []
