"""Typed settings (pipeline/settings.py): environment > config/settings.yaml > defaults; broken files refused."""

import os
from pathlib import Path

import pytest

from pipeline.config_errors import ConfigError
from pipeline.settings import DEFAULT_SETTINGS_FILE, PROJECT_ROOT, Settings, load_settings

PROJECT_CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """The developer's or CI's own RISKWATCH_* variables must not leak into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("RISKWATCH_"):
            monkeypatch.delenv(name)


def test_default_file_is_the_projects_config():
    assert DEFAULT_SETTINGS_FILE == PROJECT_CONFIG / "settings.yaml"
    assert DEFAULT_SETTINGS_FILE.is_file()


def test_defaults_load_from_settings_yaml():
    s = load_settings()
    assert isinstance(s, Settings)
    assert s.db_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'riskwatch.db'}"  # not the current directory's
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.clock == "wall"
    assert s.clock_skew == "5m"
    assert s.clock_skew_seconds == 300.0
    assert s.topic_partitions == 4
    assert s.topic_replication == 1
    assert s.retention == "365d"
    assert s.timezone == "Asia/Shanghai"
    assert s.config_dir == PROJECT_CONFIG


def test_values_come_from_the_file_not_only_the_defaults(tmp_path):
    f = tmp_path / "settings.yaml"
    f.write_text("clock: event\nclock_skew: 90s\ntopic_partitions: 12\ntimezone: UTC\n", encoding="utf-8")
    s = load_settings(f)
    assert (s.clock, s.clock_skew_seconds, s.topic_partitions, s.timezone) == ("event", 90.0, 12, "UTC")
    assert s.retention == "365d"  # not in the file: the default


def test_missing_file_means_defaults(tmp_path):
    s = load_settings(tmp_path / "absent.yaml")
    assert s.clock == "wall"
    assert s.clock_skew_seconds == 300.0


def test_environment_overrides_the_file(monkeypatch):
    monkeypatch.setenv("RISKWATCH_CLOCK", "event")
    s = load_settings()
    assert s.clock == "event"
    # the rest still comes from the file
    assert s.topic_partitions == 4


def test_environment_overrides_an_explicit_file(monkeypatch, tmp_path):
    f = tmp_path / "settings.yaml"
    f.write_text("clock: wall\nclock_skew: 1m\n", encoding="utf-8")
    monkeypatch.setenv("RISKWATCH_CLOCK", "event")
    monkeypatch.setenv("RISKWATCH_CLOCK_SKEW", "2h")
    s = load_settings(f)
    assert s.clock == "event"
    assert s.clock_skew_seconds == 7200.0


def test_bad_environment_value_is_refused(monkeypatch):
    monkeypatch.setenv("RISKWATCH_CLOCK", "sundial")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert [i.key for i in info.value.issues] == ["clock"]
    assert "RISKWATCH_" in info.value.issues[0].file


def test_environment_does_not_leak_between_tests():
    # monkeypatch restored RISKWATCH_CLOCK after the tests above
    assert load_settings().clock == "wall"


def test_broken_file_lists_every_issue(tmp_path):
    f = tmp_path / "settings.yaml"
    f.write_text(
        "\n".join(
            [
                "clock: sometimes",  # not wall|event
                "clock_skew: 5 minutes",  # bad duration
                "retention: 0d",  # bad duration (not positive)
                "topic_partitions: many",  # wrong type
                "topic_replication: 0",  # out of range
                "kafka_brokers: localhost:9092",  # unknown key
                "",
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(f)
    issues = info.value.issues
    keys = sorted(i.key for i in issues)
    assert keys == sorted(["clock", "clock_skew", "retention", "topic_partitions", "topic_replication", "kafka_brokers"])
    for issue in issues:
        assert str(f) in issue.file
        assert issue.message
        # the rendered message names file and key on every line
        assert str(issue).startswith(f"{issue.file}: {issue.key}: ")
    text = str(info.value)
    assert len(text.splitlines()) == len(issues)
    for key in keys:
        assert any(str(f) in line and key in line for line in text.splitlines()), key
    by_key = {i.key: i.message for i in issues}
    assert "not a duration" in by_key["clock_skew"]
    assert "not a duration" in by_key["retention"]
    assert by_key["kafka_brokers"] == "unknown key"


def test_yaml_syntax_error_names_the_file(tmp_path):
    f = tmp_path / "settings.yaml"
    f.write_text("clock: [wall\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(f)
    assert len(info.value.issues) == 1
    assert info.value.issues[0].file == str(f)


@pytest.mark.parametrize("body", ["- clock: wall\n", "just a string\n", "42\n"])
def test_file_that_is_not_a_mapping_is_refused(tmp_path, body):
    f = tmp_path / "settings.yaml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(f)
    assert info.value.issues[0].file == str(f)
    assert info.value.issues[0].key == "(root)"


def test_a_relative_sqlite_path_does_not_depend_on_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKWATCH_DB_URL", "sqlite:///var/other.db")
    assert load_settings().db_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'other.db'}"
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:////srv/rw.db", "postgresql+psycopg://u@h/db"):
        monkeypatch.setenv("RISKWATCH_DB_URL", url)
        assert load_settings().db_url == url
