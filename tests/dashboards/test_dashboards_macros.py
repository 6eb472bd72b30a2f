"""dashboards.macros against Grafana's own expectations.

The macro cases repeat grafana/grafana pkg/tsdb/grafana-postgresql-datasource/macros_test.go (same
inputs, same expected strings); the variable cases follow SqlDatasource.interpolateVariable and the
scenes format registry (csv, sqlstring, raw, All with and without a custom all value).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashboards.macros import (
    ALL_VALUE,
    MacroError,
    TimeRange,
    Variable,
    expand_macros,
    go_float,
    interpolate_variables,
    parse_interval,
    render_sql,
    rfc3339nano,
)

FROM = datetime(2018, 4, 12, 18, 0, 0, tzinfo=UTC)
TR = TimeRange(FROM, FROM + timedelta(minutes=5))


@pytest.mark.parametrize(("sql", "expected"), [
    ("select $__time(time_column)", 'select time_column AS "time"'),
    ("select min($__time(time_column))", 'select min(time_column AS "time")'),
    ("WHERE $__timeFilter(time_column)", "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"),
    ("select $__timeFrom()", "select '2018-04-12T18:00:00Z'"),
    ("select $__timeTo()", "select '2018-04-12T18:05:00Z'"),
    # pre-5.3 compatibility: a comma right after $__timeGroup(...) adds the alias
    ("SELECT $__timeGroup(time_column,'5m'), value", 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value'),
    ("SELECT $__timeGroup(time_column,'5m') as time, value",
     "SELECT floor(extract(epoch from time_column)/300)*300 as time, value"),
    ("SELECT $__timeGroup(time_column,'5m')", "SELECT floor(extract(epoch from time_column)/300)*300"),
    ("SELECT $__timeGroupAlias(time_column,'5m')", 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time"'),
    ("$__timeGroup(time_column , '5m')", "floor(extract(epoch from time_column)/300)*300"),
    ("$__timeGroupAlias(time_column , '5m')", 'floor(extract(epoch from time_column)/300)*300 AS "time"'),
    ("select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"),
    ("select $__unixEpochNanoFilter(time)", "select time >= 1523556000000000000 AND time <= 1523556300000000000"),
    ("select $__unixEpochNanoFrom()", "select 1523556000000000000"),
    ("select $__unixEpochNanoTo()", "select 1523556300000000000"),
    ("SELECT $__unixEpochGroup(time_column+time_adjustment,'5m')", "SELECT floor((time_column+time_adjustment)/300)*300"),
    ("SELECT $__unixEpochGroupAlias(time_column+time_adjustment,'5m')",
     'SELECT floor((time_column+time_adjustment)/300)*300 AS "time"'),
])
def test_macros_as_grafana_macros_test(sql, expected):
    assert expand_macros(sql, TR) == expected


def test_time_filter_keeps_fractional_seconds_like_rfc3339nano():
    tr = TimeRange(datetime(1960, 2, 1, 7, 0, 0, 500000, tzinfo=UTC), datetime(1980, 2, 3, 8, 0, 0, 500000, tzinfo=UTC))
    assert rfc3339nano(tr.start) == "1960-02-01T07:00:00.5Z"
    assert expand_macros("WHERE $__timeFilter(c)", tr) == "WHERE c BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'"
    assert expand_macros("select $__unixEpochFilter(time)", tr) == "select time >= -312915600 AND time <= 318412800"


def test_time_range_in_another_zone_is_printed_in_utc():
    shanghai = timezone(timedelta(hours=8))
    tr = TimeRange(datetime(2024, 11, 4, tzinfo=shanghai), datetime(2024, 11, 11, tzinfo=shanghai))
    assert expand_macros("$__timeFrom() $__timeTo()", tr) == "'2024-11-03T16:00:00Z' '2024-11-10T16:00:00Z'"


@pytest.mark.parametrize(("interval", "text"), [
    ("5m", "300"), ("1h", "3600"), ("6h", "21600"), ("1d", "86400"), ("1w", "604800"),
    ("12d", "1.0368e+06"), ("20ms", "0.02"), ("1h30m", "5400"), ("90s", "90"),
])
def test_time_group_seconds_printed_like_go(interval, text):
    assert expand_macros(f"$__timeGroup(t, '{interval}')", TR) == f"floor(extract(epoch from t)/{text})*{text}"


def test_go_float_switches_to_exponent_at_1e6():
    assert [go_float(x) for x in (999999.0, 1e6, 0.5, 0.0001, 0.00001, 123456.0)] == [
        "999999", "1e+06", "0.5", "0.0001", "1e-05", "123456"]


@pytest.mark.parametrize(("sql", "message"), [
    ("$__timeGroup(t)", "needs time column and interval"),
    ("$__timeGroup(t, 'soon')", "error parsing interval"),
    ("$__timeGroup(t, '1h', maybe)", "error parsing fill value"),
    ("$__nonsense(t)", 'unknown macro "__nonsense"'),
])
def test_bad_macros_are_errors_like_grafana(sql, message):
    with pytest.raises(MacroError, match=message):
        expand_macros(sql, TR)


def test_fill_values_grafana_accepts_leave_sql_alone():
    for fill in ("NULL", "previous", "0", "1.5"):
        assert expand_macros(f"$__timeGroup(t, '1h', {fill})", TR) == "floor(extract(epoch from t)/3600)*3600"


def test_interval_and_epoch_substitutions():
    sql = "$__interval $__interval_ms $__unixEpochFrom() $__unixEpochTo()"
    assert expand_macros(sql, TR, timedelta(minutes=10)) == "10m 600000 1523556000 1523556300"
    assert parse_interval("2w") == 14 * 86400


def _vars() -> dict[str, Variable]:
    return {
        "building": Variable("building", ALL_VALUE, options=["1", "2", "-"], multi=True, include_all=True),
        "level": Variable("level", ["high", "critical"], options=["low", "medium", "high", "critical"], multi=True,
                          include_all=True, texts={"high": "高", "critical": "极高"}),
        "one": Variable("one", ["x"], options=["x", "y"], multi=True),
        "entity": Variable("entity", "person:P-0'1", options=["person:P-0'1"]),
        "incl": Variable("incl", "a'b", options=["a'b", "c"], include_all=True),
        "custom_all": Variable("custom_all", ALL_VALUE, options=["1", "2"], multi=True, include_all=True,
                               all_value=".*"),
    }


@pytest.mark.parametrize(("sql", "expected"), [
    # the SQL datasource's own formatting (no format named)
    ("b IN ($building)", "b IN ('1','2','-')"),
    ("l IN (${level})", "l IN ('high','critical')"),
    ("x IN ($one)", "x IN ('x')"),
    ("e = '$entity'", "e = 'person:P-0''1'"),          # single value: quotes doubled, not added
    ("e = $incl", "e = 'a''b'"),                         # include-all: quoted
    ("[[building]]", "'1','2','-'"),
    # named formats win over the datasource's
    ("${building:csv}", "1,2,-"),
    ("${level:csv}", "high,critical"),
    ("${level:sqlstring}", "'high','critical'"),
    ("${entity:sqlstring}", "'person:P-0''1'"),
    ("${level:raw}", "high,critical"),
    ("${level:pipe}", "high|critical"),
    ("${level:glob}", "{high,critical}"),
    ("${level:text}", "高 + 极高"),
    ("${level:nosuchformat}", "{high,critical}"),        # unknown format: glob, like Grafana
    # custom all value substituted as is
    ("v ~ '$custom_all'", "v ~ '.*'"),
    # unknown names and macros survive the template step untouched
    ("$nosuch ${nosuch:csv} $__timeFilter(t)", "$nosuch ${nosuch:csv} $__timeFilter(t)"),
    # JavaScript's \w is ASCII: `$level楼` is the variable `level` followed by text
    ("$level楼", "'high','critical'楼"),
])
def test_template_variables_like_the_sql_datasource(sql, expected):
    assert interpolate_variables(sql, _vars()) == expected


def test_render_runs_template_step_before_macros():
    sql = "SELECT $__timeGroupAlias(t, '1h'), count(*) FROM x WHERE $__timeFilter(t) AND b IN ($building) GROUP BY 1"
    assert render_sql(sql, TR, _vars()) == (
        "SELECT floor(extract(epoch from t)/3600)*3600 AS \"time\", count(*) FROM x "
        "WHERE t BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z' AND b IN ('1','2','-') GROUP BY 1")
    assert render_sql("$__from $__to", TR) == "1523556000000 1523556300000"
