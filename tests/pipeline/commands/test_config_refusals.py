"""Broken configuration is exit 2 with every problem listed (file and key), never a traceback; a
mistyped --config directory is refused, never replaced by the project's defaults."""

from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import DEFAULT_CONFIG_DIR
from tests.pipeline import enginekit as ek

runner = CliRunner()


def _config_dir(tmp_path, **changes):
    """A copy of the project's config with `changes` ({file: (dotted key, value)}) applied."""
    out = tmp_path / "cfg"
    out.mkdir()
    for name in ("vocabulary.yaml", "area.yaml", "rules.yaml", "assignments.yaml"):
        shutil.copy(DEFAULT_CONFIG_DIR / name, out / name)
    for name, (path, value) in changes.items():
        data = yaml.safe_load((out / name).read_text(encoding="utf-8"))
        node = data
        *parents, last = path
        for part in parents:
            node = node[part]
        node[last] = value
        (out / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def _refused(args) -> list[str]:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("错误（配置有误）：共 ") and lines[0].endswith("处问题，配置未采用"), lines
    return lines[1:]


def test_rules_check_of_a_directory(tmp_path):
    assert _refused(["rules", "check", str(tmp_path)]) == [f"  {tmp_path}: (file): is a directory, not a YAML file"]


def test_rule_type_given_as_a_list(tmp_path):
    path = ek.write_rules(tmp_path, [{**ek.rule("x", when={"kind": "hazard"}), "type": ["match"]}])
    assert _refused(["rules", "check", str(path)]) == [
        f"  {path}: rules.x.type: unknown rule type (use one of match, threshold, sequence, absence)"]


def test_assignments_default_given_as_a_list(tmp_path):
    cfg = _config_dir(tmp_path, **{"assignments.yaml": (["default"], ["L10"])})
    lines = _refused(["rules", "apply", str(cfg / "rules.yaml"), "--config", str(cfg), "--dry-run",
                      "--db", "sqlite://"])
    assert lines == [f"  {cfg / 'assignments.yaml'}: default: Input should be a valid string"]


def test_assign_leader_given_as_a_list(tmp_path):
    data = yaml.safe_load((DEFAULT_CONFIG_DIR / "assignments.yaml").read_text(encoding="utf-8"))
    data["assign"][0]["leader"] = ["L01"]
    cfg = _config_dir(tmp_path, **{"assignments.yaml": (["assign"], data["assign"])})
    events = tmp_path / "e.jsonl"
    events.write_text("")
    lines = _refused(["replay", str(events), "--config", str(cfg)])
    assert lines == [f"  {cfg / 'assignments.yaml'}: assign[0].leader: Input should be a valid string"]


def test_vocabulary_types_given_as_nested_lists(tmp_path):
    cfg = _config_dir(tmp_path, **{"vocabulary.yaml": (["kinds", "patrol"], [["x"]])})
    lines = _refused(["rules", "check", str(cfg / "rules.yaml"), "--config", str(cfg)])
    assert lines == [f"  {cfg / 'vocabulary.yaml'}: kinds.patrol[0]: Input should be a valid string"]


def test_every_problem_of_every_file_is_listed(tmp_path):
    cfg = _config_dir(tmp_path, **{"vocabulary.yaml": (["version"], 2), "assignments.yaml": (["default"], ["L10"])})
    events = tmp_path / "e.jsonl"
    events.write_text("")
    lines = _refused(["replay", str(events), "--config", str(cfg)])
    assert any("vocabulary.yaml: version:" in line for line in lines)
    assert any("assignments.yaml: default:" in line for line in lines)


@pytest.mark.parametrize("command", [["replay", "EVENTS"], ["explain", "person:P-0101", "EVENTS"],
                                     ["rules", "check", "RULES"], ["dashboards", "lint"]])
def test_a_missing_config_directory_is_refused(tmp_path, command):
    events = tmp_path / "e.jsonl"
    events.write_text("")
    args = [str(events) if a == "EVENTS" else str(DEFAULT_CONFIG_DIR / "rules.yaml") if a == "RULES" else a
            for a in command]
    result = runner.invoke(app, [*args, "--config", str(tmp_path / "typo")])
    assert result.exit_code == 2, result.output
    assert "typo" in result.stderr and "does not exist" in result.stderr


def test_the_core_refuses_a_missing_config_directory_too(tmp_path):
    from pipeline.config_errors import ConfigError
    from pipeline.configset import load_config

    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "typo")
    assert [(i.key, i.message) for i in info.value.issues] == [("(directory)", "no such directory")]
