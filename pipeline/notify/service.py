"""Start the notifier from settings: used by `riskwatch notify` and by the stream worker.

    notifier = build(load_settings())                # refuses a broken config (ConfigError, all listed)
    thread, stop = run_in_thread(notifier, 5.0)      # the worker: stop.set() on shutdown, then join
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from pipeline.notify.notifier import Notifier


def build(settings, config_dir: Path | None = None, channels_file: Path | None = None,
          db_url: str | None = None, env: Mapping[str, str] | None = None,
          max_age: timedelta = timedelta(days=7)) -> Notifier:
    """A Notifier on the settings' database and config; ConfigError for any config or environment
    problem, StorageUnavailable/SchemaOutdated for the database. With `link_secret` set, every notice
    carries its leader's signed link to the alert page (pipeline/web/links.py)."""
    from pipeline.configset import config_file, load_config
    from pipeline.notify.config import check_environment, load_channels
    from pipeline.storage.db import open_database
    from pipeline.web.links import alert_link_hook

    env = dict(os.environ) if env is None else env
    config_dir = config_dir or settings.config_dir
    config = load_config(config_dir)
    channels = load_channels(channels_file or config_file("channels.yaml", config_dir), config.assignments)
    check_environment(channels, env)
    engine = open_database(db_url or settings.db_url)
    return Notifier(engine, config, channels, grafana_url=settings.grafana_url, timezone=settings.timezone,
                    env=env, max_age=max_age, alert_link=alert_link_hook(settings, logging.getLogger(__name__)))


def leaders_without_channel(settings, config_dir: Path | None = None,
                            channels_file: Path | None = None) -> list[tuple[str, str]]:
    """(id, name) of every leader of assignments.yaml that channels.yaml gives no channel."""
    from pipeline.configset import config_file, load_config
    from pipeline.notify import config as channel_config

    config_dir = config_dir or settings.config_dir
    config = load_config(config_dir)
    channels = channel_config.load_channels(channels_file or config_file("channels.yaml", config_dir),
                                            config.assignments)
    return [(lid, config.assignments.leaders[lid].name)
            for lid in channel_config.leaders_without_channel(channels, config.assignments)]


def run_in_thread(notifier: Notifier, interval: float) -> tuple[threading.Thread, threading.Event]:
    """Passes every `interval` seconds in a daemon thread until the returned event is set."""
    stop = threading.Event()
    thread = threading.Thread(target=notifier.run, args=(interval, stop), name="riskwatch-notifier", daemon=True)
    thread.start()
    return thread, stop
