"""Loading rules.yaml (docs/contract.md §3): refusal as a whole with every error (rule id + key), guardrails, CLI."""


import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config_errors import ConfigError
from pipeline.rules.loader import load_rules
from pipeline.settings import DEFAULT_CONFIG_DIR
from tests.pipeline import enginekit as ek

PROJECT_RULES = DEFAULT_CONFIG_DIR / "rules.yaml"
runner = CliRunner()


def refused(tmp_path, rules, vocab=True, **defaults):
    path = ek.write_rules(tmp_path, rules, **defaults)
    with pytest.raises(ConfigError) as info:
        load_rules(path, ek.vocabulary() if vocab else None)
    for issue in info.value.issues:
        assert issue.file == str(path)
    return {(i.key, i.message) for i in info.value.issues}


def keys(issues):
    return {k for k, _ in issues}


def good(**kw):
    base = dict(when={"kind": "hazard", "type": "found"})
    base.update(kw)
    return base


# -- the project's rules ---------------------------------------------------------------------------


def test_project_rules_load():
    rs = load_rules(PROJECT_RULES, ek.vocabulary())
    assert rs.alert_level == "high"
    assert rs.levels == [("medium", 30.0), ("high", 60.0), ("critical", 90.0)]
    assert rs.half_life == 14 * 86400
    ids = [r.id for r in rs.rules]
    assert len(ids) == len(set(ids)) and len(ids) >= 10
    assert {r.type for r in rs.rules} == {"match", "threshold", "sequence", "absence"}
    assert [r.index for r in rs.rules] == list(range(len(ids)))
    assert not any(r.target == "person" and "petition" in str(r.logic.conditions()) for r in rs.rules)


def test_a_minimal_file_loads_with_defaults(tmp_path):
    path = tmp_path / "r.yaml"
    ek.write_yaml(path, {"version": 1, "rules": [ek.rule("a", when={"kind": "hazard"})]})
    rs = load_rules(path)
    assert rs.half_life == 14 * 86400
    assert rs.levels == [("medium", 30.0), ("high", 60.0), ("critical", 90.0)]
    assert rs.alert_level == "high"
    r = rs.rules[0]
    assert (r.enabled, r.alert, r.half_life, r.roles, r.score) == (True, False, 14 * 86400, None, 10.0)


def test_rule_half_life_and_flags(tmp_path):
    rs = ek.ruleset(tmp_path, [
        ek.rule("a", when={"kind": "hazard"}, half_life="90m", alert=True, enabled=False, description="d"),
        ek.rule("b", target="person", roles=["party", "witness"], when={"kind": "dispute"}),
    ], half_life="2w")
    a, b = rs.rules
    assert a.half_life == 5400 and a.alert is True and a.enabled is False and a.description == "d"
    assert b.half_life == 14 * 86400 and b.roles == frozenset({"party", "witness"})
    assert [r.id for r in rs.enabled] == ["b"]


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("5m", 300), ("6h", 21600), ("14d", 1209600), ("2w", 1209600)])
def test_duration_units(tmp_path, text, seconds):
    rs = ek.ruleset(tmp_path, [ek.rule("t", "threshold", when={"kind": "hazard"}, count=2, window=text,
                                       half_life=text)])
    assert rs.rules[0].half_life == seconds and rs.rules[0].logic.window == seconds


# -- every error listed ---------------------------------------------------------------------------


def test_many_errors_are_all_listed_with_rule_id_and_key(tmp_path):
    rules = [
        ek.rule("ok", when={"kind": "hazard"}),
        ek.rule("dup", when={"kind": "hazard"}),
        ek.rule("dup", when={"kind": "hazard"}),
        ek.rule("typo-key", when={"kind": "hazard"}, wehn={"kind": "hazard"}),
        ek.rule("bad-type", "matches", when={"kind": "hazard"}),
        ek.rule("bad-window", "threshold", when={"kind": "hazard"}, count=3, window="7 days"),
        ek.rule("bad-within", "sequence", steps=[{"kind": "hazard"}, {"kind": "hazard"}], within="0h"),
        ek.rule("bad-half-life", when={"kind": "hazard"}, half_life="1y"),
        ek.rule("roles-on-location", when={"kind": "hazard"}, roles=["party"]),
        ek.rule("petition-person", target="person", when={"kind": "petition"}),
        ek.rule("religion", when={"kind": "hazard", "attributes.Religion": "x"}),
        ek.rule("bad-score", when={"kind": "hazard"}, score=0),
        ek.rule("bad-op", when={"kind": "hazard", "severity": {"greater": 3}}),
        {"title": "no id", "category": "safety", "target": "location", "type": "match", "score": 1,
         "when": {"kind": "hazard"}},
        ek.rule("Bad_Id", when={"kind": "hazard"}),
        ek.rule("bad-target", target="street", when={"kind": "hazard"}),
        ek.rule("bad-kind", when={"kind": "hazzard"}),
        ek.rule("bad-vocab-type", when={"kind": "hazard", "type": "smoke_alarm"}),
    ]
    issues = refused(tmp_path, rules)
    ks = keys(issues)
    expected = {
        "rules.dup.id",
        "rules.typo-key.wehn",
        "rules.bad-type.type",
        "rules.bad-window.window",
        "rules.bad-within.within",
        "rules.bad-half-life.half_life",
        "rules.roles-on-location.roles",
        "rules.petition-person.when.kind",
        "rules.religion.when.attributes.Religion",
        "rules.bad-score.score",
        "rules.bad-op.when.severity.greater",
        "rules[13].id",
        "rules[14].id",
        "rules.bad-target.target",
        "rules.bad-kind.when.kind",
        "rules.bad-vocab-type.when.type",
    }
    assert expected <= ks, expected - ks
    assert not any(k.startswith("rules.ok") for k in ks)
    # the message says what is wrong
    msgs = dict(issues)
    assert "duplicate" in msgs["rules.dup.id"]
    assert "unknown key" in msgs["rules.typo-key.wehn"]
    assert "petition" in msgs["rules.petition-person.when.kind"]


def test_issue_str_names_file_key_and_message(tmp_path):
    path = ek.write_rules(tmp_path, [ek.rule("x", when={"kind": "hazard"}, score=-1)])
    with pytest.raises(ConfigError) as info:
        load_rules(path)
    text = str(info.value)
    assert str(path) in text and "rules.x.score" in text


def test_top_level_and_defaults_errors(tmp_path):
    path = tmp_path / "r.yaml"
    ek.write_yaml(path, {
        "version": 2,
        "extra": 1,
        "defaults": {"half_life": "fortnight", "levels": {"medium": 30, "low": 5, "high": "x"},
                     "alert_level": "severe", "colour": "red"},
        "rules": [ek.rule("a", when={"kind": "hazard"})],
    })
    with pytest.raises(ConfigError) as info:
        load_rules(path)
    ks = {i.key for i in info.value.issues}
    assert {"version", "extra", "defaults.half_life", "defaults.levels.low", "defaults.levels.high",
            "defaults.alert_level", "defaults.colour"} <= ks


@pytest.mark.parametrize("rules", [[], None, "x"])
def test_rules_must_be_a_non_empty_list(tmp_path, rules):
    path = tmp_path / "r.yaml"
    ek.write_yaml(path, {"version": 1, "rules": rules})
    with pytest.raises(ConfigError) as info:
        load_rules(path)
    assert "rules" in {i.key for i in info.value.issues}


def test_not_yaml_or_not_a_mapping_or_missing(tmp_path):
    (tmp_path / "a.yaml").write_text("rules: [\n")
    (tmp_path / "b.yaml").write_text("- 1\n")
    for name in ("a.yaml", "b.yaml", "missing.yaml"):
        with pytest.raises(ConfigError):
            load_rules(tmp_path / name)


@pytest.mark.parametrize(
    "spec,key",
    [
        (ek.rule("x", "threshold", when={"kind": "hazard"}, window="1d"), "rules.x.count"),
        (ek.rule("x", "threshold", when={"kind": "hazard"}, count=0, window="1d"), "rules.x.count"),
        (ek.rule("x", "threshold", when={"kind": "hazard"}, count=2.5, window="1d"), "rules.x.count"),
        (ek.rule("x", "threshold", when={"kind": "hazard"}, count=2), "rules.x.window"),
        (ek.rule("x", "threshold", when={"kind": "hazard"}, count=2, window=3600), "rules.x.window"),
        (ek.rule("x", "threshold", when={"kind": "hazard"}, count=2, window="1d", distinct="case"),
         "rules.x.distinct"),
        (ek.rule("x", "threshold", when={"kind": "hazard"}, count=2, window="1d",
                 distinct="attributes.RELIGION"), "rules.x.distinct"),
        (ek.rule("x", "sequence", steps=[{"kind": "hazard"}], within="1d"), "rules.x.steps"),
        (ek.rule("x", "sequence", steps={"kind": "hazard"}, within="1d"), "rules.x.steps"),
        (ek.rule("x", "sequence", steps=[{"kind": "hazard"}, {"nope": 1}], within="1d"), "rules.x.steps[1].nope"),
        (ek.rule("x", "sequence", steps=[{"kind": "hazard"}, {"kind": "hazard"}]), "rules.x.within"),
        (ek.rule("x", "absence", start={"kind": "hazard"}, within="1d"), "rules.x.expect"),
        (ek.rule("x", "absence", expect={"kind": "hazard"}, within="1d"), "rules.x.start"),
        (ek.rule("x", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}), "rules.x.within"),
        (ek.rule("x", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}, within="1d",
                 repeat_every="-1d"), "rules.x.repeat_every"),
        (ek.rule("x", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}, within="1d",
                 max_repeats=3), "rules.x.max_repeats"),
        (ek.rule("x", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}, within="1d",
                 repeat_every="1d", max_repeats=-1), "rules.x.max_repeats"),
        (ek.rule("x", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}, within="1d",
                 correlate="attributes.health"), "rules.x.correlate"),
        (ek.rule("x", when={"kind": "hazard"}, window="1d"), "rules.x.window"),  # threshold key on a match rule
        (ek.rule("x", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}, within="1d",
                 when={"kind": "hazard"}), "rules.x.when"),
        (ek.rule("x"), "rules.x.when"),
        (ek.rule("x", when={"kind": "hazard"}, score=True), "rules.x.score"),
        (ek.rule("x", when={"kind": "hazard"}, score="10"), "rules.x.score"),
        (ek.rule("x", when={"kind": "hazard"}, alert="yes"), "rules.x.alert"),
        (ek.rule("x", when={"kind": "hazard"}, enabled=1), "rules.x.enabled"),
        (ek.rule("x", when={"kind": "hazard"}, title=""), "rules.x.title"),
        (ek.rule("x", when={"kind": "hazard"}, category="Fire Safety"), "rules.x.category"),
        (ek.rule("x", target="person", when={"kind": "dispute"}, roles=[]), "rules.x.roles"),
        (ek.rule("x", target="person", when={"kind": "dispute"}, roles="party"), "rules.x.roles"),
        (ek.rule("x", target="building", when={"kind": "hazard"}, roles=["party"]), "rules.x.roles"),
        (ek.rule("x", target="checkpoint", when={"kind": "hazard"}, roles=["party"]), "rules.x.roles"),
    ],
)
def test_single_errors_name_rule_and_key(tmp_path, spec, key):
    assert key in keys(refused(tmp_path, [spec]))


def test_disabled_rules_are_checked_too(tmp_path):
    assert "rules.x.window" in keys(refused(tmp_path, [
        ek.rule("x", "threshold", when={"kind": "hazard"}, count=2, window="soon", enabled=False)]))


def test_roles_allowed_on_person_and_business(tmp_path):
    rules = ek.ruleset(tmp_path, [
        ek.rule("p", target="person", roles=["party"], when={"kind": "dispute"}),
        ek.rule("b", target="business", roles=["operator"], when={"kind": "enforcement"}),
    ]).rules
    assert [(r.id, r.target, r.roles) for r in rules] == [
        ("p", "person", frozenset({"party"})), ("b", "business", frozenset({"operator"}))]


# -- guardrails ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "petition",
        ["dispute", "petition"],
        {"in": ["petition"]},
        {"in": ["dispute", "petition"]},
        {"eq": "petition"},
        # other spellings that match petitions just the same
        {"in": ["petition"], "exists": True},
        {"not": {"ne": "petition"}},
        {"any": ["petition"]},
    ],
)
@pytest.mark.parametrize("where", ["when", "steps", "start", "expect"])
def test_person_rule_may_not_match_petitions(tmp_path, kind, where):
    cond = {"kind": kind}
    other = {"kind": "dispute"}
    if where == "when":
        spec = ek.rule("p", target="person", when=cond)
        key = "rules.p.when.kind"
    elif where == "steps":
        spec = ek.rule("p", "sequence", target="person", steps=[other, cond], within="1d")
        key = "rules.p.steps[1].kind"
    elif where == "start":
        spec = ek.rule("p", "absence", target="person", start=cond, expect=other, within="1d")
        key = "rules.p.start.kind"
    else:
        spec = ek.rule("p", "absence", target="person", start=other, expect=cond, within="1d")
        key = "rules.p.expect.kind"
    issues = refused(tmp_path, [spec])
    assert key in keys(issues)
    # the guardrail holds without a vocabulary too (it is not configurable away)
    assert key in keys(refused(tmp_path, [spec], vocab=False))


def test_petition_rules_for_other_targets_load(tmp_path):
    rs = ek.ruleset(tmp_path, [
        ek.rule("b", target="business", when={"kind": "petition"}),
        ek.rule("l", target="location", when={"kind": "petition", "type": "received"}),
        ek.rule("p", target="person", when={"kind": {"ne": "petition"}, "type": "reported"}),
        ek.rule("q", target="person", when={"kind": {"not": {"in": ["petition"]}}, "tags": "x"}),
    ])
    assert [r.id for r in rs.rules] == ["b", "l", "p", "q"]


@pytest.mark.parametrize("name", ["ethnicity", "religion", "political_affiliation", "party_membership",
                                  "sexual_orientation", "health", "disability", "union_membership"])
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_guarded_attributes_refused_in_any_case(tmp_path, name, case):
    path = f"attributes.{case(name)}"
    specs = [
        ek.rule("w", when={"kind": "hazard", path: {"exists": False}}),
        ek.rule("s", "sequence", steps=[{"kind": "hazard"}, {path: "x"}], within="1d"),
        ek.rule("t", "threshold", when={"kind": "hazard"}, count=2, window="1d", distinct=path),
        ek.rule("a", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}, within="1d", correlate=path),
    ]
    ks = keys(refused(tmp_path, specs))
    assert {f"rules.w.when.{path}", f"rules.s.steps[1].{path}", "rules.t.distinct", "rules.a.correlate"} <= ks


# -- the CLI -----------------------------------------------------------------------------------------


def test_cli_rules_check_project_file_exits_0():
    result = runner.invoke(app, ["rules", "check", str(PROJECT_RULES)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_cli_rules_check_bad_file_exits_2_listing_every_error(tmp_path):
    path = ek.write_rules(tmp_path, [
        ek.rule("petition-person", target="person", when={"kind": {"in": ["petition"]}}),
        ek.rule("religion", when={"kind": "hazard", "attributes.religion": "x"}),
        ek.rule("dup", when={"kind": "hazard"}),
        ek.rule("dup", when={"kind": "hazard"}, window="1d"),
    ])
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    err = result.stderr
    for key in ("rules.petition-person.when.kind", "rules.religion.when.attributes.religion", "rules.dup.id",
                "rules.dup.window"):
        assert key in err, err
    assert "共 4 处问题" in err


def test_cli_replay_with_refused_rules_exits_2(tmp_path):
    bad = ek.write_rules(tmp_path, [ek.rule("p", target="person", when={"kind": "petition"})])
    events = ek.write_jsonl(tmp_path / "e.jsonl", [ek.event("e1", "hazard", "found", loc="L")])
    result = runner.invoke(app, ["replay", str(events), "--rules", str(bad), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "rules.p.when.kind" in result.stderr


def test_cli_replay_with_refused_rules_in_config_dir_exits_2(tmp_path):
    cfg = tmp_path / "cfg"
    ek.write_rules(cfg, [ek.rule("x", when={"kind": "hazard", "attributes.Health": 1})])
    events = ek.write_jsonl(tmp_path / "e.jsonl", [ek.event("e1", "hazard", "found", loc="L")])
    result = runner.invoke(app, ["replay", str(events), "--config", str(cfg), "--json"])
    assert result.exit_code == 2
    assert "attributes.Health" in result.stderr
