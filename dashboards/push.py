"""`riskwatch dashboards push`: create or update the folder, the datasource and the dashboards on a
Grafana server through grafana-client, and say what changed.

Idempotent: each object is read first and written only when it differs, so a second push of the same
build reports everything `unchanged` and writes nothing. Dashboards are saved with `overwrite: true`
into the folder 虹都中心风险监测 (uid `riskwatch`). The datasource password is never read back by
Grafana's API, so it is sent when the datasource is created or its visible settings change.

Grafana HTTP API used (as documented for Grafana 11): GET/POST /api/folders, GET/PUT
/api/folders/:uid; GET /api/datasources/uid/:uid, POST /api/datasources, PUT /api/datasources/uid/:uid;
GET /api/dashboards/uid/:uid, POST /api/dashboards/db.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards.common import DATASOURCE_NAME, DATASOURCE_UID, FOLDER_TITLE, FOLDER_UID
from dashboards.sqlquery import PLUGIN_ID
from pipeline.errors import UsageError

MESSAGE = "riskwatch dashboards push"
IGNORED_DASHBOARD_KEYS = ("id", "version")


@dataclass(frozen=True)
class Change:
    kind: str      # folder | datasource | dashboard
    uid: str
    title: str
    action: str    # created | updated | unchanged

    def __str__(self) -> str:
        return f"{self.kind:<10} {self.uid:<14} {self.action:<9} {self.title}"


@dataclass(frozen=True)
class DatabaseAccess:
    """How Grafana reaches PostgreSQL (host:port as seen from the Grafana server)."""

    host: str
    database: str
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str, host: str | None = None) -> "DatabaseAccess":
        import sqlalchemy as sa

        u = sa.engine.make_url(url)
        if u.get_backend_name() != "postgresql":
            raise UsageError("Grafana reads PostgreSQL: give a postgresql:// database URL")
        return cls(host=host or f"{u.host or 'localhost'}:{u.port or 5432}", database=u.database or "",
                   user=u.username or "", password=u.password or "")


def datasource_body(db: DatabaseAccess) -> dict:
    return {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": PLUGIN_ID,
        "access": "proxy",
        "url": db.host,
        "user": db.user,
        "isDefault": True,
        "jsonData": {"database": db.database, "sslmode": "disable", "postgresVersion": 1500,
                     "timescaledb": False, "maxOpenConns": 10},
    }


def _not_found(exc: GrafanaClientError) -> bool:
    return getattr(exc, "status_code", None) == 404


def _differs(wanted: dict, current: dict) -> bool:
    """True when a key we set has another value on the server (keys Grafana adds are ignored)."""
    for key, value in wanted.items():
        if isinstance(value, dict):
            if _differs(value, current.get(key) or {}):
                return True
        elif current.get(key) != value:
            return True
    return False


class Pusher:
    def __init__(self, api: GrafanaApi):
        self.api = api

    @classmethod
    def connect(cls, url: str, token: str, timeout: float = 10.0) -> "Pusher":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"not a Grafana URL: {url!r} (expected http(s)://host[:port][/path])")
        return cls(GrafanaApi.from_url(url, credential=token, timeout=timeout))

    def folder(self) -> Change:
        try:
            current = self.api.folder.get_folder(FOLDER_UID)
        except GrafanaClientError as exc:
            if not _not_found(exc):
                raise
            self.api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
            return Change("folder", FOLDER_UID, FOLDER_TITLE, "created")
        if current.get("title") == FOLDER_TITLE:
            return Change("folder", FOLDER_UID, FOLDER_TITLE, "unchanged")
        self.api.folder.update_folder(FOLDER_UID, title=FOLDER_TITLE, version=current.get("version"), overwrite=True)
        return Change("folder", FOLDER_UID, FOLDER_TITLE, "updated")

    def datasource(self, db: DatabaseAccess) -> Change:
        body = datasource_body(db)
        try:
            current = self.api.datasource.get_datasource_by_uid(DATASOURCE_UID)
        except GrafanaClientError as exc:
            if not _not_found(exc):
                raise
            self.api.datasource.create_datasource({**body, "secureJsonData": {"password": db.password}})
            return Change("datasource", DATASOURCE_UID, DATASOURCE_NAME, "created")
        if not _differs(body, current):
            return Change("datasource", DATASOURCE_UID, DATASOURCE_NAME, "unchanged")
        self.api.datasource.update_datasource_by_uid(
            DATASOURCE_UID, {**body, "version": current.get("version"), "secureJsonData": {"password": db.password}})
        return Change("datasource", DATASOURCE_UID, DATASOURCE_NAME, "updated")

    def dashboard(self, dash: dict) -> Change:
        uid, title = dash["uid"], dash.get("title", "")
        wanted = {k: v for k, v in dash.items() if k not in IGNORED_DASHBOARD_KEYS}
        action = "created"
        try:
            current = self.api.dashboard.get_dashboard(uid)
        except GrafanaClientError as exc:
            if not _not_found(exc):
                raise
        else:
            server = {k: v for k, v in (current.get("dashboard") or {}).items() if k not in IGNORED_DASHBOARD_KEYS}
            if server == wanted and (current.get("meta") or {}).get("folderUid") == FOLDER_UID:
                return Change("dashboard", uid, title, "unchanged")
            action = "updated"
        self.api.dashboard.update_dashboard(
            {"dashboard": {**wanted, "id": None}, "folderUid": FOLDER_UID, "overwrite": True, "message": MESSAGE})
        return Change("dashboard", uid, title, action)

    def push(self, dashboards: dict[str, dict], db: DatabaseAccess) -> list[Change]:
        """Folder, datasource, then every dashboard; one Change each, in that order."""
        changes = [self.folder(), self.datasource(db)]
        changes.extend(self.dashboard(d) for d in dashboards.values())
        return changes
