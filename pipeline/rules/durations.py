"""Duration fields of rule types, checked the same way everywhere."""

from __future__ import annotations

from pipeline.timeutil import duration_seconds


def duration_field(spec: dict, name: str, problems, required: bool = True) -> float | None:
    if name not in spec:
        if required:
            problems.add(name, "required")
        return None
    try:
        return duration_seconds(spec[name])
    except ValueError as exc:
        problems.add(name, str(exc))
        return None


def positive_int_field(spec: dict, name: str, problems, default: int | None = None, minimum: int = 1) -> int | None:
    if name not in spec:
        if default is None:
            problems.add(name, "required")
        return default
    value = spec[name]
    if type(value) is not int or value < minimum:
        problems.add(name, f"must be an integer >= {minimum}")
        return None
    return value
