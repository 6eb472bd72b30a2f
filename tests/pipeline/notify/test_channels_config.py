"""config/channels.yaml: the project's file loads; a broken one is refused with every problem listed."""

from __future__ import annotations

import re

import pytest

from pipeline.config_errors import ConfigError
from pipeline.notify.config import check_environment, env_names, load_channels
from pipeline.settings import DEFAULT_CONFIG_DIR


def test_the_projects_channels_file_loads_and_reaches_every_leader(config):
    from pipeline.configset import config_file

    chans = load_channels(config_file("channels.yaml", None), config.assignments)
    assert set(chans.by_leader) == set(config.assignments.leaders)
    assert chans.group_wait == 30.0 and chans.smtp is not None and chans.smtp.starttls
    types = {spec.type for specs in chans.by_leader.values() for spec in specs}
    assert types == {"webhook", "wecom", "dingtalk", "email"}


def test_no_url_address_or_secret_is_written_in_the_projects_channels_file(config):
    from pipeline.configset import config_file

    path = config_file("channels.yaml", None)
    assert "://" not in path.read_text(encoding="utf-8")
    chans = load_channels(path, config.assignments)
    for specs in chans.by_leader.values():
        for spec in specs:
            assert getattr(spec.options, "url", None) is None and getattr(spec.options, "to", None) is None
    assert chans.smtp.host is None and chans.smtp.host_env


def test_a_broken_file_is_refused_with_every_problem(tmp_path, config):
    path = tmp_path / "channels.yaml"
    path.write_text(
        """
version: 1
group_wait: soon
colour: blue
leaders:
  L01:
    - {type: wecom}
    - {type: pager, number: 110}
  L99:
    - {type: webhook, url: "http://127.0.0.1:9/x"}
  L02:
    - {type: email, to: [a@b.c]}
  L03:
    - {type: webhook, url: "ftp://x"}
    - {type: dingtalk, url_env: A, secret_env: B, colour: red}
  L04: []
  L05:
    - {type: wecom, url_env: A}
    - {type: wecom, url_env: B}
  ghost: [{type: wecom, url_env: X}]
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_channels(path, config.assignments)
    keys = {(i.key, i.message.split(" (")[0].split(":")[0]) for i in exc.value.issues}
    got = {i.key for i in exc.value.issues}
    assert {"group_wait", "colour", "leaders.L01[0].url_env", "leaders.L01[1].type", "leaders.L99",
            "leaders.L02[0]", "leaders.L03[0]", "leaders.L03[1].colour", "leaders.L04", "leaders.L05[1]",
            "leaders.ghost"} <= got, keys
    assert any("unknown leader 'L99'" in i.message for i in exc.value.issues)
    assert any("unknown leader 'ghost'" in i.message for i in exc.value.issues)
    assert all(i.file == str(path) for i in exc.value.issues)


def test_missing_environment_variables_are_all_listed(config):
    from pipeline.configset import config_file

    chans = load_channels(config_file("channels.yaml", None), config.assignments)
    with pytest.raises(ConfigError) as exc:
        check_environment(chans, {"RISKWATCH_WECOM_URL_L01": "http://127.0.0.1:1/x"})
    missing = {i.message.split()[2] for i in exc.value.issues}
    assert "RISKWATCH_WECOM_URL_L01" not in missing
    assert {"RISKWATCH_EMAIL_L01", "RISKWATCH_DINGTALK_SECRET_L03", "RISKWATCH_SMTP_HOST"} <= missing
    full = {var: "x" for var in missing} | {"RISKWATCH_WECOM_URL_L01": "x"}
    check_environment(chans, full)  # nothing missing: no error


def test_env_example_lists_every_variable_the_projects_channels_need(config):
    """compose's notifier reads .env (copied from .env.example): a variable channels.yaml names but the
    example lacks would make it refuse to start, and escalations would never go out."""
    channels = load_channels(DEFAULT_CONFIG_DIR / "channels.yaml", config.assignments)
    needed = env_names(channels)
    assert {"RISKWATCH_WECOM_URL_L05", "RISKWATCH_EMAIL_L05", "RISKWATCH_EMAIL_L10", "RISKWATCH_DUTY_WEBHOOK_URL",
            "RISKWATCH_DUTY_WEBHOOK_TOKEN", "RISKWATCH_SMTP_HOST"} <= set(needed)
    example = (DEFAULT_CONFIG_DIR.parent / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M))
    assert [name for name in needed if name not in listed] == []
    # and the check it stands in for: an environment with every listed variable set passes
    check_environment(channels, {name: "x" for name in listed})
