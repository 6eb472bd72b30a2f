"""A PostgreSQL `rawSql` target for grafana-foundation-sdk, which ships no query type for SQL datasources.

`SqlQuery` is the target model (what Grafana stores in `panel.targets[]` for its PostgreSQL datasource,
plugin id `grafana-postgresql-datasource`), `RawSql` its builder. `register()` tells the SDK's runtime
to decode such targets into `SqlQuery`, so a dashboard JSON read back with `Dashboard.from_json`
keeps its queries typed instead of falling back to the SDK's untyped bag.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

PLUGIN_ID = "grafana-postgresql-datasource"
Format = Literal["table", "time_series"]


class SqlQuery(cogvariants.Dataquery):
    """One SQL target: Grafana expands its macros and template variables, then runs `raw_sql`."""

    def __init__(
        self,
        ref_id: str = "A",
        raw_sql: str = "",
        format: Format = "table",
        datasource: dashboard.DataSourceRef | None = None,
        editor_mode: str = "code",
        raw_query: bool = True,
        hide: bool | None = None,
    ) -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format = format
        self.datasource = datasource
        self.editor_mode = editor_mode
        self.raw_query = raw_query
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "rawSql": self.raw_sql,
            "format": self.format,
            "editorMode": self.editor_mode,
            "rawQuery": self.raw_query,
        }
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        if self.hide is not None:
            payload["hide"] = self.hide
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            ref_id=data.get("refId", "A"),
            raw_sql=data.get("rawSql", ""),
            format=data.get("format", "table"),
            datasource=dashboard.DataSourceRef.from_json(data["datasource"]) if data.get("datasource") else None,
            editor_mode=data.get("editorMode", "code"),
            raw_query=data.get("rawQuery", True),
            hide=data.get("hide"),
        )


class RawSql(cogbuilder.Builder[SqlQuery]):
    """Builder in the SDK's style: `RawSql(sql).format("time_series").ref_id("B").datasource(ref)`."""

    def __init__(self, sql: str) -> None:
        self._internal = SqlQuery(raw_sql=sql)

    def build(self) -> SqlQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def format(self, fmt: Format) -> Self:
        self._internal.format = fmt
        return self

    def datasource(self, ref: dashboard.DataSourceRef) -> Self:
        self._internal.datasource = ref
        return self


def register() -> None:
    """Register the SDK's own panel/query variants and ours (idempotent: the runtime is a keyed registry)."""
    from grafana_foundation_sdk.cog.plugins import register_default_plugins

    register_default_plugins()
    cogruntime.register_dataquery_variant(cogruntime.DataqueryConfig(identifier=PLUGIN_ID, from_json_hook=SqlQuery.from_json))
