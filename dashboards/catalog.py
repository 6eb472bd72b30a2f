"""All dashboards of the folder 虹都中心风险监测, in menu order, built from the configuration."""

from __future__ import annotations

from dashboards import alerts, disputes, entity, hazards, leaders, overview, patrol
from dashboards.panels import Dashboard, build_dashboard
from dashboards.sqlquery import register
from pipeline.configset import ConfigSet

MODULES = (overview, entity, hazards, disputes, patrol, alerts, leaders)


def definitions(cfg: ConfigSet) -> list[Dashboard]:
    return [m.dashboard(cfg) for m in MODULES]


def build_all(cfg: ConfigSet) -> dict[str, dict]:
    """uid → Grafana dashboard JSON (dict), in menu order."""
    register()
    return {d.uid: build_dashboard(d, levels=cfg.rules.levels) for d in definitions(cfg)}
