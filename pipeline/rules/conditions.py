"""Conditions of the rule language (docs/contract.md §3): field paths mapped to values or operator objects.

A condition is compiled once into a closure `holds(doc, role) -> bool` over the event's JSON object
and the role of the subject being scored, so evaluating a rule costs a few dict look-ups.

Semantics chosen where the contract is silent (documented in docs/semantics.md):
- on a list field (`tags`, list attributes) a scalar means "contains" and a list means "contains one of";
- a missing field satisfies only `{exists: false}`, `{ne: …}` and negations;
- `gt`/`gte`/`lt`/`lte` compare numbers with numbers and strings with strings, never across types.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.protected import is_protected_attribute

Holds = Callable[[dict, str | None], bool]
MISSING = object()
TOP_LEVEL_PATHS = ("kind", "type", "source", "severity", "tags", "text")
LOCATION_FIELDS = ("id", "building", "floor", "unit", "checkpoint")
OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "any", "all", "exists", "not")
_SCALARS = (str, int, float, bool)


class ConditionProblems(list):
    """(key, message) pairs collected while compiling; the loader prefixes them with the rule."""

    def add(self, key: str, message: str) -> None:
        self.append((key, message))


def compile_condition(spec, key: str, problems: ConditionProblems) -> Holds:
    """Compile a condition mapping; on problems record them and return a predicate that never holds."""
    if not isinstance(spec, dict) or not spec:
        problems.add(key, "must be a non-empty mapping of field path to value or operator object")
        return _never
    tests = []
    equalities = []
    for path, expected in spec.items():
        if path in _STRING_FIELDS and type(expected) is str:
            equalities.append((path, expected))
            continue
        getter = field_getter(path, f"{key}.{path}", problems)
        test = _compile_expected(expected, f"{key}.{path}", problems)
        if getter is not None and test is not None:
            tests.append((getter, test))
    if len(tests) + len(equalities) != len(spec):
        return _never
    if not equalities:
        return _conjunction(tests)
    equal = _string_equalities(equalities)
    if not tests:
        return lambda doc, role: equal(doc)
    rest = _conjunction(tests)
    return lambda doc, role: equal(doc) and rest(doc, role)


# Fields that hold a string in every accepted event (or are absent): `kind: dispute` on them is a plain
# comparison, fused into one closure because most rules start with kind and type.
_STRING_FIELDS = ("kind", "type", "source", "text")


def _string_equalities(pairs):
    if len(pairs) == 1:
        (p1, v1), = pairs
        return lambda doc: doc.get(p1) == v1
    if len(pairs) == 2:
        (p1, v1), (p2, v2) = pairs
        return lambda doc: doc.get(p1) == v1 and doc.get(p2) == v2
    return lambda doc: all(doc.get(p) == v for p, v in pairs)


def _conjunction(tests):
    # Unrolled for the common sizes: a generator under all() costs more than the tests themselves.
    if len(tests) == 1:
        (g1, t1), = tests
        return lambda doc, role: t1(g1(doc, role))
    if len(tests) == 2:
        (g1, t1), (g2, t2) = tests
        return lambda doc, role: t1(g1(doc, role)) and t2(g2(doc, role))
    if len(tests) == 3:
        (g1, t1), (g2, t2), (g3, t3) = tests
        return lambda doc, role: t1(g1(doc, role)) and t2(g2(doc, role)) and t3(g3(doc, role))
    head, rest = _conjunction(tests[:3]), _conjunction(tests[3:])
    return lambda doc, role: head(doc, role) and rest(doc, role)


def _never(doc: dict, role: str | None) -> bool:
    return False


def field_getter(path, key: str, problems: ConditionProblems):
    if not isinstance(path, str):
        problems.add(key, "field path must be a string")
        return None
    if path in TOP_LEVEL_PATHS:
        return lambda doc, role: doc.get(path, MISSING)
    if path == "subject.role":
        return lambda doc, role: MISSING if role is None else role
    head, _, tail = path.partition(".")
    if head == "location" and tail in LOCATION_FIELDS:
        return lambda doc, role: (doc.get("location") or {}).get(tail, MISSING)
    if head == "attributes" and tail:
        if is_protected_attribute(tail):
            problems.add(key, f"attribute {tail!r} is a protected attribute and may not be used in rules")
            return None
        return lambda doc, role: (doc.get("attributes") or {}).get(tail, MISSING)
    problems.add(
        key,
        "unknown field path (use kind, type, source, severity, tags, text, location.<id|building|floor|unit|"
        "checkpoint>, attributes.<key>, subject.role)",
    )
    return None


def _compile_expected(expected, key: str, problems: ConditionProblems):
    if isinstance(expected, dict):
        return _compile_operators(expected, key, problems)
    if isinstance(expected, list):
        if not expected or not all(isinstance(v, _SCALARS) for v in expected):
            problems.add(key, "a list means 'one of' and must hold scalars")
            return None
        return _one_of(expected)
    if isinstance(expected, _SCALARS):
        return _one_of([expected])
    problems.add(key, "value must be a scalar, a list of scalars or an operator object")
    return None


def _compile_operators(ops: dict, key: str, problems: ConditionProblems):
    if not ops:
        problems.add(key, "empty operator object")
        return None
    tests = []
    for op, arg in ops.items():
        builder = _BUILDERS.get(op)
        if builder is None:
            problems.add(f"{key}.{op}", f"unknown operator (use one of {', '.join(OPERATORS)})")
            continue
        test = builder(arg, f"{key}.{op}", problems)
        if test is not None:
            tests.append(test)
    if len(tests) != len(ops):
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda value: all(t(value) for t in tests)


def _one_of(options):
    options = list(options)
    if len(options) == 1 and type(options[0]) is str:
        # Fast path for the most common condition, `kind: dispute`: a string equals only a string.
        only = options[0]

        def test_str(value) -> bool:
            if type(value) is list:
                return only in value
            return value == only and type(value) is str

        return test_str

    def test(value) -> bool:
        if type(value) is list:
            return any(_same(v, o) for v in value for o in options)
        return value is not MISSING and any(_same(value, o) for o in options)

    return test


def _same(a, b) -> bool:
    # bool is an int in Python; true must not equal 1 in a rule.
    return a == b and (type(a) is bool) == (type(b) is bool)


def _op_eq(arg, key, problems):
    if not isinstance(arg, _SCALARS):
        problems.add(key, "eq takes a scalar")
        return None
    return _one_of([arg])


def _op_ne(arg, key, problems):
    test = _op_eq(arg, key, problems)
    return None if test is None else (lambda value: not test(value))


def _op_in(arg, key, problems):
    if not isinstance(arg, list) or not arg or not all(isinstance(v, _SCALARS) for v in arg):
        problems.add(key, "in takes a non-empty list of scalars")
        return None
    return _one_of(arg)


def _comparison(name, compare):
    def build(arg, key, problems):
        if isinstance(arg, bool) or not isinstance(arg, (int, float, str)):
            problems.add(key, f"{name} takes a number or a string")
            return None
        numeric = not isinstance(arg, str)

        def test(value) -> bool:
            if numeric:
                return type(value) in (int, float) and compare(value, arg)
            return type(value) is str and compare(value, arg)

        return test

    return build


def _op_contains(arg, key, problems):
    if not isinstance(arg, str):
        problems.add(key, "contains takes a string")
        return None

    def test(value) -> bool:
        if type(value) is str:
            return arg in value
        if type(value) is list:
            return arg in value
        return False

    return test


def _list_op(name, combine):
    def build(arg, key, problems):
        if not isinstance(arg, list) or not arg or not all(isinstance(v, _SCALARS) for v in arg):
            problems.add(key, f"{name} takes a non-empty list of scalars")
            return None
        wanted = list(arg)

        def test(value) -> bool:
            if type(value) is not list:
                value = [] if value is MISSING else [value]
            return combine(any(_same(v, w) for v in value) for w in wanted)

        return test

    return build


def _op_exists(arg, key, problems):
    if not isinstance(arg, bool):
        problems.add(key, "exists takes true or false")
        return None
    return (lambda value: value is not MISSING) if arg else (lambda value: value is MISSING)


def _op_not(arg, key, problems):
    if not isinstance(arg, dict):
        problems.add(key, "not takes an operator object")
        return None
    inner = _compile_operators(arg, key, problems)
    return None if inner is None else (lambda value: not inner(value))


_BUILDERS = {
    "eq": _op_eq,
    "ne": _op_ne,
    "in": _op_in,
    "gt": _comparison("gt", lambda a, b: a > b),
    "gte": _comparison("gte", lambda a, b: a >= b),
    "lt": _comparison("lt", lambda a, b: a < b),
    "lte": _comparison("lte", lambda a, b: a <= b),
    "contains": _op_contains,
    "any": _list_op("any", any),
    "all": _list_op("all", all),
    "exists": _op_exists,
    "not": _op_not,
}


def reads_role(spec) -> bool:
    """Whether a condition depends on the subject being scored (else it can be tested once per event)."""
    return not isinstance(spec, dict) or "subject.role" in spec


def admitted_values(spec, path: str) -> set | None:
    """The values of `path` a condition can admit, or None when it does not restrict that path.

    Used to index rules by kind and type, and by the petition guardrail.
    """
    if not isinstance(spec, dict) or path not in spec:
        return None
    expected = spec[path]
    if isinstance(expected, list):
        return set(expected)
    if isinstance(expected, dict):
        if set(expected) == {"eq"}:
            return {expected["eq"]}
        if set(expected) == {"in"} and isinstance(expected["in"], list):
            return set(expected["in"])
        return None
    return {expected}
