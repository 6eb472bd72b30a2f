"""Expand a panel's SQL the way Grafana does before PostgreSQL sees it, so tests can run the very text.

Grafana prepares a PostgreSQL query in two steps, and this module reproduces both:

1. In the browser, the template service replaces variable references (`$var`, `${var}`,
   `${var:format}`, `[[var]]`) using the SQL datasource's `interpolateVariable` unless the reference
   names a format. That function leaves a single-value variable's value unquoted (only `'` doubled),
   quotes it when the variable is multi-value or has "All", and turns a list into `'a','b'` — so
   `building IN ($building)` becomes `building IN ('1','2')`. "All" without a custom all value means
   every option's value; a custom all value is substituted as is. Names are ASCII word characters
   (JavaScript's `\\w`); an unknown name is left untouched, which is how `$__timeFilter(...)` survives
   this step.
2. On the server, the SQL engine replaces `$__interval`, `$__interval_ms`, `$__unixEpochFrom()`,
   `$__unixEpochTo()`, then the PostgreSQL macro engine replaces every `$name(args)`:
   `$__timeFilter(c)` → `c BETWEEN '<from>' AND '<to>'` (RFC 3339 UTC, nanosecond precision with
   trailing zeros cut), `$__timeFrom()`/`$__timeTo()` → the quoted instant, `$__timeGroup(c, '5m')` →
   `floor(extract(epoch from c)/300)*300` (seconds printed like Go's `%v`), `$__timeGroupAlias` adds
   ` AS "time"`, and — Grafana's pre-5.3 compatibility — a `$__timeGroup(...)` directly followed by
   a comma gets the alias too. Unknown macros are an error, like Grafana's `unknown macro`.

References: grafana/grafana pkg/tsdb/grafana-postgresql-datasource/macros.go (and its macros_test.go,
whose cases tests/dashboards/test_dashboards_macros.py repeats), sqleng's Interpolate,
public/app/features/plugins/sql/datasource/SqlDatasource.ts (interpolateVariable) and the scenes
format registry (csv, sqlstring, ...). TimescaleDB's `time_bucket` variant is not used here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pipeline.errors import MacroError

ALL_VALUE = "$__all"

# scenes' VARIABLE_REGEX: $var | [[var:fmt]] | ${var.fieldPath:fmt}; \w is ASCII as in JavaScript.
VARIABLE_RE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}", re.ASCII)
# macros.go: `\$([_a-zA-Z0-9]+)\(([^\)]*)\)`
MACRO_RE = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("time range bounds must be timezone-aware")


@dataclass
class Variable:
    """A template variable's state as the template service sees it.

    `current` is the selection: a string, a list (multi-value), or ALL_VALUE. `options` are the
    values "All" stands for (without the All entry itself); `texts` maps value → display text."""

    name: str
    current: str | list[str]
    options: list[str] = field(default_factory=list)
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    texts: dict[str, str] = field(default_factory=dict)

    def is_all(self) -> bool:
        cur = self.current
        return cur == ALL_VALUE or (isinstance(cur, list) and bool(cur) and cur[0] == ALL_VALUE)


# -- step 1: template variables (browser) ---------------------------------------------------------


def _quote_literal(value: str) -> str:
    """PostgreSQL query model's quoteLiteral: single quotes, embedded quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_interpolate_variable(value, variable: Variable) -> str:
    """SqlDatasource.interpolateVariable: the format used when a reference names none."""
    if isinstance(value, str):
        if variable.multi or variable.include_all:
            return _quote_literal(value)
        return value.replace("'", "''")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _js_string(value)
    if isinstance(value, list):
        return ",".join(_quote_literal(v) for v in value)
    return _js_string(value)


def _js_string(value) -> str:
    """JavaScript's String(value) for the values variables hold."""
    if isinstance(value, list):
        return ",".join(_js_string(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sql_string(value) -> str:
    escape = {"'": "''", '"': '\\"'}

    def one(v) -> str:
        return "'" + re.sub(r"['\"]", lambda m: escape[m.group(0)], _js_string(v)) + "'"

    return ",".join(one(v) for v in value) if isinstance(value, list) else one(value)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


FORMATS = {
    "csv": lambda v, var: ",".join(_js_string(x) for x in v) if isinstance(v, list) else _js_string(v),
    "raw": lambda v, var: _js_string(v),
    "sqlstring": lambda v, var: _sql_string(v),
    "singlequote": lambda v, var: ",".join("'" + _js_string(x).replace("'", "\\'") + "'" for x in _as_list(v)),
    "doublequote": lambda v, var: ",".join('"' + _js_string(x).replace('"', '\\"') + '"' for x in _as_list(v)),
    "pipe": lambda v, var: "|".join(_js_string(x) for x in v) if isinstance(v, list) else _js_string(v),
    "json": lambda v, var: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":")),
    "glob": lambda v, var: ("{" + ",".join(_js_string(x) for x in v) + "}" if isinstance(v, list) and len(v) > 1
                            else _js_string(v)),
    "text": lambda v, var: " + ".join(var.texts.get(x, x) for x in v) if isinstance(v, list) else var.texts.get(v, v),
}


def _format(value, fmt: str | None, variable: Variable) -> str:
    if fmt is None:
        return sql_interpolate_variable(value, variable)
    name = fmt.split(":", 1)[0]
    formatter = FORMATS.get(name, FORMATS["glob"])  # Grafana falls back to glob for an unknown format
    return formatter(value, variable)


def interpolate_variables(sql: str, variables: Mapping[str, Variable], builtins: Mapping[str, str] | None = None) -> str:
    """The template service's replace(sql, scopedVars, ds.interpolateVariable)."""
    builtins = builtins or {}

    def replace(m: re.Match) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6)
        if name in builtins:
            return builtins[name]
        variable = variables.get(name)
        if variable is None:
            return m.group(0)
        value: str | list[str]
        if variable.is_all():
            if variable.all_value is not None:
                if fmt == "text":
                    return "All"
                return interpolate_variables(variable.all_value, variables, builtins)
            value = list(variable.options)
        else:
            current = variable.current
            value = current[0] if isinstance(current, list) and not variable.multi and len(current) == 1 else current
        return _format(value, fmt, variable)

    return VARIABLE_RE.sub(replace, sql)


# -- step 2: macros (server) ----------------------------------------------------------------------


def go_float(x: float) -> str:
    """Go's fmt `%v` for a float64: shortest digits, exponent form from 1e+06 (and below 1e-04)."""
    if x == 0:
        return "0"
    d = Decimal(repr(float(x)))
    sign, digits, exponent = d.normalize().as_tuple()
    assert isinstance(exponent, int)      # a finite float: never NaN or infinity here
    exp10 = len(digits) + exponent - 1
    if exp10 < -4 or exp10 >= 6:
        mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
        return ("-" if sign else "") + f"{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    text = format(d.normalize(), "f")
    return text


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_interval(text: str) -> float:
    """gtime.ParseInterval in seconds: `<n>d`, `<n>w`, or a Go duration (`90s`, `1h30m`, `20ms`)."""
    m = re.fullmatch(r"(\d+)([dwMy])", text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if unit in "My":
            raise MacroError(f"calendar interval {text!r} depends on the current date: not supported here")
        return n * (86400.0 if unit == "d" else 7 * 86400.0)
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise MacroError(f"error parsing interval {text}")
    return sum(float(n) * _GO_UNITS[u] for n, u in parts)


def format_interval(seconds: float) -> str:
    """gtime.FormatInterval, the text `$__interval` becomes: the largest unit, truncated (`1m`, `6h`, `1d`)."""
    ms = int(round(seconds * 1000))
    for unit, size in (("y", 31536000000), ("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return "1ms"


def rfc3339nano(t: datetime) -> str:
    """Go's t.UTC().Format(time.RFC3339Nano): fractional seconds without trailing zeros."""
    t = t.astimezone(UTC)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        base += "." + f"{t.microsecond:06d}".rstrip("0")
    return base + "Z"


def _epoch(t: datetime) -> int:
    return int(t.timestamp() // 1)


def _need(args: Sequence[str], name: str, n: int = 1) -> None:
    # Go splits "" into [""], so an empty argument list still has one (empty) argument, as here.
    if len(args) < n:
        if n == 1:
            raise MacroError(f"missing time column argument for macro {name}")
        raise MacroError(f"macro {name} needs time column and interval and optional fill value")


def _fill(args: Sequence[str]) -> None:
    """sqleng.SetupFillmode: NULL, previous (case-sensitive) or a number; it changes the result, not the SQL."""
    if len(args) == 3 and args[2] not in ("NULL", "previous"):
        try:
            float(args[2])
        except ValueError:
            raise MacroError(f"error parsing fill value {args[2]}") from None


def evaluate_macro(name: str, args: list[str], tr: TimeRange) -> str:
    f, t = rfc3339nano(tr.start), rfc3339nano(tr.end)
    if name == "__time":
        _need(args, name)
        return f'{args[0]} AS "time"'
    if name == "__timeEpoch":
        _need(args, name)
        return f'extract(epoch from {args[0]}) as "time"'
    if name == "__timeFilter":
        _need(args, name)
        return f"{args[0]} BETWEEN '{f}' AND '{t}'"
    if name == "__timeFrom":
        return f"'{f}'"
    if name == "__timeTo":
        return f"'{t}'"
    if name in ("__timeGroup", "__unixEpochGroup"):
        _need(args, name, 2)
        try:
            seconds = go_float(parse_interval(args[1].strip("'")))
        except MacroError:
            raise MacroError(f"error parsing interval {args[1]}") from None
        _fill(args)
        if name == "__timeGroup":
            return f"floor(extract(epoch from {args[0]})/{seconds})*{seconds}"
        return f"floor(({args[0]})/{seconds})*{seconds}"
    if name in ("__timeGroupAlias", "__unixEpochGroupAlias"):
        return evaluate_macro(name[: -len("Alias")], args, tr) + ' AS "time"'
    if name == "__unixEpochFilter":
        _need(args, name)
        return f"{args[0]} >= {_epoch(tr.start)} AND {args[0]} <= {_epoch(tr.end)}"
    if name == "__unixEpochNanoFilter":
        _need(args, name)
        return f"{args[0]} >= {_nanos(tr.start)} AND {args[0]} <= {_nanos(tr.end)}"
    if name == "__unixEpochNanoFrom":
        return str(_nanos(tr.start))
    if name == "__unixEpochNanoTo":
        return str(_nanos(tr.end))
    raise MacroError(f'unknown macro "{name}"')


def _nanos(t: datetime) -> int:
    delta = t - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def expand_macros(sql: str, tr: TimeRange, interval: timedelta | None = None) -> str:
    """sqleng.Interpolate then the PostgreSQL macro engine (postgresMacroEngine.Interpolate)."""
    if interval is not None:
        seconds = interval.total_seconds()
        sql = sql.replace("$__interval_ms", str(int(seconds * 1000)))
        sql = sql.replace("$__interval", format_interval(seconds))
    sql = sql.replace("$__unixEpochFrom()", str(_epoch(tr.start)))
    sql = sql.replace("$__unixEpochTo()", str(_epoch(tr.end)))
    original = sql

    def replace(m: re.Match) -> str:
        name = m.group(1)
        if name == "__timeGroup":
            # pre-5.3 compatibility: a comma right after the (first) same call means "add the alias"
            at = original.find(m.group(0))
            if at >= 0 and original[at + len(m.group(0)) : at + len(m.group(0)) + 1] == ",":
                name = "__timeGroupAlias"
        args = [a.strip(" ") for a in m.group(2).split(",")]
        return evaluate_macro(name, args, tr)

    return MACRO_RE.sub(replace, sql)


def render_sql(
    sql: str,
    tr: TimeRange,
    variables: Mapping[str, Variable] | None = None,
    interval: timedelta | None = None,
) -> str:
    """Both steps in Grafana's order: what the PostgreSQL server receives for this panel."""
    builtins = {"__from": str(int(tr.start.timestamp() * 1000)), "__to": str(int(tr.end.timestamp() * 1000))}
    if interval is not None:
        builtins["__interval"] = format_interval(interval.total_seconds())
        builtins["__interval_ms"] = str(int(interval.total_seconds() * 1000))
    return expand_macros(interpolate_variables(sql, variables or {}, builtins), tr, interval)
