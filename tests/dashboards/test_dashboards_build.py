"""Dashboards offline: SDK round-trip, our lint (and that it catches what it claims), the committed
provisioning files being what `riskwatch dashboards build` writes, Chinese titles, the links."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard as SdkDashboard
from typer.testing import CliRunner

from dashboards import catalog, provisioning
from dashboards.common import DATASOURCE_UID, FOLDER_TITLE, FOLDER_UID, REF_COLUMN, UID_ENTITY
from dashboards.lint import lint, used_variables
from dashboards.queryrun import panels_of
from dashboards.sqlquery import SqlQuery, register
from pipeline.cli import app
from pipeline.configset import load_config

CJK = re.compile(r"[\u4e00-\u9fff]")
EXPECTED_TITLES = {"研判总览", "风险对象详情", "隐患排查整改", "矛盾纠纷化解", "巡查覆盖", "预警响应", "包保领导"}


@pytest.fixture(scope="module")
def built() -> dict[str, dict]:
    return catalog.build_all(load_config())


def test_six_dashboards_with_their_chinese_titles(built):
    assert {d["title"] for d in built.values()} == EXPECTED_TITLES
    for d in built.values():
        for p in panels_of(d):
            assert CJK.search(p["title"]), f"{d['uid']} panel {p['id']} title not Chinese: {p['title']!r}"


def test_json_round_trips_through_the_sdk_models(built):
    register()
    for uid, dash in built.items():
        model = SdkDashboard.from_json(copy.deepcopy(dash))
        for p in model.panels:
            assert all(isinstance(t, SqlQuery) for t in p.targets), f"{uid} panel {p.id_val}: untyped target"
        again = json.loads(JSONEncoder(sort_keys=True, ensure_ascii=False).encode(model))
        assert again == dash, f"{uid} changed in the round trip"


def test_built_dashboards_pass_lint(built):
    problems = [str(p) for d in built.values() for p in lint(d, {DATASOURCE_UID})]
    assert problems == []


def _overview(built) -> dict:
    return copy.deepcopy(built["riskwatch-overview"])


@pytest.mark.parametrize(("break_it", "expected"), [
    (lambda d: d["panels"][1].__setitem__("id", d["panels"][0]["id"]), "also used by"),
    (lambda d: d["panels"][1]["gridPos"].update(x=d["panels"][0]["gridPos"]["x"] + 1, y=d["panels"][0]["gridPos"]["y"]),
     "overlaps"),
    (lambda d: d["panels"][0]["gridPos"].update(x=22, w=4), "outside the 24-column grid"),
    (lambda d: d["panels"][2]["targets"][0].pop("datasource"), "target without a known datasource uid"),
    (lambda d: d["panels"][2]["targets"][0]["datasource"].__setitem__("uid", "other"), "known datasource uid"),
    (lambda d: d["panels"][3]["targets"][0].__setitem__("rawSql", "SELECT 1 WHERE x IN ($floor)"),
     "uses $floor, which the dashboard does not define"),
    (lambda d: d["panels"][3]["targets"][0].__setitem__("rawSql", "SELECT $__timeFiltre(t)"), "unknown built-in $__timeFiltre"),
    (lambda d: d["panels"][4].__setitem__("title", "  "), "no title"),
    (lambda d: d["panels"][5]["targets"][0].__setitem__("rawSql", "SELECT * FROM person_registry"), "reads person_registry"),
    (lambda d: d["templating"]["list"][0].pop("datasource"), "query variable without a known datasource uid"),
])
def test_lint_catches(built, break_it, expected):
    dash = _overview(built)
    break_it(dash)
    problems = [str(p) for p in lint(dash, {DATASOURCE_UID})]
    assert any(expected in p for p in problems), problems


def test_variables_used_by_links_and_sql_are_found():
    assert used_variables("a $building b ${level:csv} [[category]] ${__value.raw}") == {
        "building", "level", "category", "__value"}


def test_overview_has_the_filter_variables_multi_value_with_all(built):
    for uid in ("riskwatch-overview", "riskwatch-alerts"):
        variables = {v["name"]: v for v in built[uid]["templating"]["list"]}
        for name in ("building", "category", "level"):
            v = variables[name]
            assert v["multi"] and v["includeAll"], (uid, name)
            assert v["current"]["value"] == ["$__all"]


def test_overview_entities_link_to_the_drill_down(built):
    overview, entity = built["riskwatch-overview"], built[UID_ENTITY]
    assert [v["name"] for v in entity["templating"]["list"]] == ["entity"]
    links = [(p["title"], o["properties"][0]["value"][0]["url"])
             for p in panels_of(overview) for o in p.get("fieldConfig", {}).get("overrides", [])
             if o["properties"][0]["id"] == "links"]
    assert links, "no drill-down link on the overview"
    for title, url in links:
        # the cell shows the entity's Chinese name; the link takes the ref from the row's hidden column
        assert url.startswith(f"/d/{UID_ENTITY}?var-entity=${{__data.fields.{REF_COLUMN}}}"), (title, url)
        assert "${__url_time_range}" in url
    for p in panels_of(overview):
        overrides = p.get("fieldConfig", {}).get("overrides", [])
        if any(o["properties"][0]["id"] == "links" for o in overrides):
            assert {"matcher": {"id": "byName", "options": REF_COLUMN},
                    "properties": [{"id": "custom.hidden", "value": True}]} in overrides, p["title"]


def test_drill_down_uid_is_the_one_notifications_link_to(built):
    from pipeline.notify.notices import DRILLDOWN_UID

    assert DRILLDOWN_UID in built and built[DRILLDOWN_UID]["title"] == "风险对象详情"


def test_committed_provisioning_is_what_build_writes(built):
    """dashboards/provisioning/ must be regenerated (riskwatch dashboards build) after a change."""
    for rel, content in provisioning.files(built).items():
        path = provisioning.DEFAULT_OUT / rel
        assert path.is_file(), f"{path} missing: run `riskwatch dashboards build`"
        assert path.read_text(encoding="utf-8") == content, f"{path} is stale: run `riskwatch dashboards build`"
    on_disk = {p.name for p in (provisioning.DEFAULT_OUT / provisioning.JSON_SUBDIR).glob("*.json")}
    assert on_disk == {f"{uid}.json" for uid in built}


def test_provisioning_files_say_folder_datasource_and_no_secret():
    ds = yaml.safe_load(provisioning.dump_yaml(provisioning.datasource_provisioning()))["datasources"][0]
    assert ds["uid"] == DATASOURCE_UID and ds["type"] == "grafana-postgresql-datasource"
    assert ds["secureJsonData"]["password"] == "${POSTGRES_PASSWORD}"   # from the container's environment
    provider = yaml.safe_load(provisioning.dump_yaml(provisioning.dashboard_provider()))["providers"][0]
    assert (provider["folder"], provider["folderUid"]) == (FOLDER_TITLE, FOLDER_UID)
    assert provider["options"]["path"] == f"{provisioning.CONTAINER_DIR}/{provisioning.JSON_SUBDIR}"


def test_build_command_writes_files(tmp_path):
    result = CliRunner().invoke(app, ["dashboards", "build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (tmp_path / provisioning.JSON_SUBDIR / "stale.json").write_text("{}")
    result = CliRunner().invoke(app, ["dashboards", "build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / provisioning.JSON_SUBDIR).iterdir())
    assert names == sorted(f"{uid}.json" for uid in catalog.build_all(load_config()))
    dash = json.loads((tmp_path / provisioning.JSON_SUBDIR / "riskwatch-overview.json").read_text(encoding="utf-8"))
    assert dash["title"] == "研判总览"
    assert (tmp_path / "datasources" / "riskwatch.yaml").is_file()
    assert (tmp_path / "dashboards" / "riskwatch.yaml").is_file()


def test_lint_command_reports_ok():
    result = CliRunner().invoke(app, ["dashboards", "lint"])
    assert result.exit_code == 0, result.output
    assert "7 dashboards" in result.output


def test_level_charts_colour_each_level_apart(built):
    """Charts by level give every level its own colour (重大 red, 较大 orange, 一般 yellow), never one colour
    for 较大 and 重大."""
    from pipeline import labels

    charts = {(uid, p["title"]): p for uid, d in built.items() for p in panels_of(d) if "按等级" in p["title"]}
    assert len(charts) >= 2
    for where, p in charts.items():
        colours = {o["matcher"]["options"]: o["properties"][0]["value"]["fixedColor"]
                   for o in p["fieldConfig"]["overrides"] if o["properties"][0]["id"] == "color"}
        assert colours == {labels.level_label(n): labels.level_colour(n) for n in labels.LEVEL_ORDER}, where
        assert colours["重大"] != colours["较大"]


def test_the_level_stat_takes_the_level_colour(built):
    from pipeline import labels

    [stat] = [p for p in panels_of(built[UID_ENTITY]) if p["title"] == "当前等级"]
    [mapping] = stat["fieldConfig"]["defaults"]["mappings"]
    assert {k: v["color"] for k, v in mapping["options"].items()} == {
        labels.level_label(n): labels.level_colour(n) for n in labels.LEVEL_ORDER}


def test_score_colours_follow_the_configured_levels():
    from dashboards import overview
    from dashboards.panels import build_dashboard
    from pipeline.configset import load_config

    dash = build_dashboard(overview.dashboard(load_config()), levels=(("medium", 40.0), ("high", 70.0), ("critical", 95.0)))
    [heat] = [p for p in panels_of(dash) if p["title"] == "楼栋楼层风险热力"]
    steps = heat["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s.get("value") for s in steps] == [None, 40.0, 70.0, 95.0]
