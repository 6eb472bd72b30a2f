"""`riskwatch dashboards push` against a small Grafana stand-in on 127.0.0.1 (threaded http.server,
random port) that keeps state and refuses requests Grafana's HTTP API documentation would refuse:
missing bearer token (401), unknown routes (404, recorded), non-JSON bodies, a folder without title,
a datasource without name/type/access, a dashboard save without `dashboard.title`, with an `id` it
does not know, into a folder that does not exist, or over an existing uid without `overwrite`.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from dashboards import catalog
from dashboards.common import DATASOURCE_UID, FOLDER_TITLE, FOLDER_UID
from dashboards.push import DatabaseAccess, Pusher
from pipeline.cli import app
from pipeline.configset import load_config

TOKEN = "glsa_test_token"
DB = DatabaseAccess(host="postgres:5432", database="riskwatch", user="grafana_reader", password="s3cret")


class FakeGrafana:
    def __init__(self):
        self.folders: dict[str, dict] = {}
        self.datasources: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.unexpected: list[tuple[str, str]] = []
        self.next_id = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # each handler returns (status, body)
    def handle(self, method: str, path: str, body):
        routes = [
            ("GET", r"/api/folders/([^/]+)", self.get_folder),
            ("POST", r"/api/folders", self.create_folder),
            ("PUT", r"/api/folders/([^/]+)", self.update_folder),
            ("GET", r"/api/datasources/uid/([^/]+)", self.get_datasource),
            ("POST", r"/api/datasources", self.create_datasource),
            ("PUT", r"/api/datasources/uid/([^/]+)", self.update_datasource),
            ("GET", r"/api/dashboards/uid/([^/]+)", self.get_dashboard),
            ("POST", r"/api/dashboards/db", self.save_dashboard),
        ]
        for m, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if m == method and match:
                return fn(body, *match.groups())
        self.unexpected.append((method, path))
        return 404, {"message": "Not found"}

    def get_folder(self, _, uid):
        f = self.folders.get(uid)
        return (200, f) if f else (404, {"message": "folder not found", "status": "not-found"})

    def create_folder(self, body):
        if not isinstance(body.get("title"), str) or not body["title"]:
            return 400, {"message": "folder title cannot be empty"}
        uid = body.get("uid") or f"f{self.new_id()}"
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        self.folders[uid] = {"id": self.new_id(), "uid": uid, "title": body["title"], "version": 1}
        return 200, self.folders[uid]

    def update_folder(self, body, uid):
        f = self.folders.get(uid)
        if not f:
            return 404, {"message": "folder not found"}
        if not body.get("title"):
            return 400, {"message": "folder title cannot be empty"}
        if not body.get("overwrite") and body.get("version") != f["version"]:
            return 409, {"message": "the folder has been changed by someone else"}
        f.update(title=body["title"], version=f["version"] + 1)
        return 200, f

    def get_datasource(self, _, uid):
        ds = self.datasources.get(uid)
        if not ds:
            return 404, {"message": "Data source not found"}
        shown = {k: v for k, v in ds.items() if k != "secureJsonData"}
        shown["secureJsonFields"] = {k: True for k in ds.get("secureJsonData") or {}}
        return 200, shown

    def _check_datasource(self, body):
        missing = [k for k in ("name", "type", "access") if not body.get(k)]
        return (400, {"message": f"Required: {missing}"}) if missing else None

    def create_datasource(self, body):
        if err := self._check_datasource(body):
            return err
        uid = body.get("uid") or f"d{self.new_id()}"
        if uid in self.datasources or any(d["name"] == body["name"] for d in self.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        self.datasources[uid] = {**body, "id": self.new_id(), "uid": uid, "version": 1, "orgId": 1, "readOnly": False}
        return 200, {"datasource": self.get_datasource(None, uid)[1], "id": self.datasources[uid]["id"],
                     "message": "Datasource added", "name": body["name"]}

    def update_datasource(self, body, uid):
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        if err := self._check_datasource(body):
            return err
        old = self.datasources[uid]
        self.datasources[uid] = {**body, "id": old["id"], "uid": uid, "version": old["version"] + 1, "orgId": 1,
                                 "secureJsonData": body.get("secureJsonData") or old.get("secureJsonData")}
        return 200, {"datasource": self.get_datasource(None, uid)[1], "message": "Datasource updated"}

    def get_dashboard(self, _, uid):
        d = self.dashboards.get(uid)
        if not d:
            return 404, {"message": "Dashboard not found", "status": "not-found"}
        return 200, copy.deepcopy(d)

    def save_dashboard(self, body):
        dash = body.get("dashboard")
        if not isinstance(dash, dict) or not dash.get("title"):
            return 400, {"message": "Dashboard title cannot be empty"}
        folder = body.get("folderUid")
        if folder and folder not in self.folders:
            return 400, {"message": "folder not found"}
        uid = dash.get("uid")
        existing = self.dashboards.get(uid)
        if dash.get("id") is not None and (not existing or existing["dashboard"]["id"] != dash["id"]):
            return 404, {"message": "Dashboard not found"}
        if existing and not body.get("overwrite"):
            return 412, {"message": "A dashboard with the same uid already exists", "status": "name-exists"}
        version = existing["dashboard"]["version"] + 1 if existing else 1
        did = existing["dashboard"]["id"] if existing else self.new_id()
        self.dashboards[uid] = {"dashboard": {**dash, "id": did, "version": version},
                                "meta": {"folderUid": folder or "", "folderTitle": self.folders.get(folder, {}).get("title", ""),
                                         "url": f"/d/{uid}/x", "version": version}}
        return 200, {"id": did, "uid": uid, "url": f"/d/{uid}/x", "status": "success", "version": version, "slug": "x"}


@pytest.fixture
def grafana():
    state = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _serve(self, method: str):
            state.requests.append((method, self.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, {"message": "Unauthorized"})
            body = None
            if method in ("POST", "PUT"):
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    return self._send(415, {"message": "expected application/json"})
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(400, {"message": "bad request data"})
            status, payload = state.handle(method, self.path.split("?")[0], body)
            self._send(status, payload)

        def _send(self, status: int, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PUT(self):
            self._serve("PUT")

        def do_DELETE(self):
            self._serve("DELETE")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def built():
    return catalog.build_all(load_config())


def _writes(state) -> list[tuple[str, str]]:
    return [r for r in state.requests if r[0] != "GET"]


def test_first_push_creates_everything_then_nothing_changes(grafana, built, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    pusher = Pusher.connect(grafana.url, TOKEN)
    changes = pusher.push(built, DB)
    assert [(c.kind, c.uid, c.action) for c in changes] == [
        ("folder", FOLDER_UID, "created"), ("datasource", DATASOURCE_UID, "created"),
        *(("dashboard", uid, "created") for uid in built)]
    assert grafana.unexpected == []
    assert grafana.folders[FOLDER_UID]["title"] == FOLDER_TITLE
    ds = grafana.datasources[DATASOURCE_UID]
    assert (ds["type"], ds["url"], ds["user"], ds["jsonData"]["database"]) == (
        "grafana-postgresql-datasource", "postgres:5432", "grafana_reader", "riskwatch")
    assert ds["secureJsonData"] == {"password": "s3cret"}
    for uid, dash in built.items():
        stored = grafana.dashboards[uid]
        assert stored["meta"]["folderUid"] == FOLDER_UID
        assert {k: v for k, v in stored["dashboard"].items() if k not in ("id", "version")} == \
               {k: v for k, v in dash.items() if k not in ("id", "version")}

    grafana.requests.clear()
    again = pusher.push(built, DB)
    assert {c.action for c in again} == {"unchanged"}
    assert _writes(grafana) == []


def test_push_repairs_what_changed_on_the_server(grafana, built, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    pusher = Pusher.connect(grafana.url, TOKEN)
    pusher.push(built, DB)
    grafana.folders[FOLDER_UID]["title"] = "renamed by hand"
    grafana.dashboards["riskwatch-hazards"]["dashboard"]["title"] = "edited in the UI"
    grafana.datasources[DATASOURCE_UID]["url"] = "elsewhere:5432"
    grafana.requests.clear()
    changes = {(c.kind, c.uid): c.action for c in pusher.push(built, DB)}
    assert changes.pop(("folder", FOLDER_UID)) == "updated"
    assert changes.pop(("datasource", DATASOURCE_UID)) == "updated"
    assert changes.pop(("dashboard", "riskwatch-hazards")) == "updated"
    assert set(changes.values()) == {"unchanged"}
    assert sorted(_writes(grafana)) == sorted([
        ("PUT", f"/api/folders/{FOLDER_UID}"), ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}"),
        ("POST", "/api/dashboards/db")])
    assert grafana.folders[FOLDER_UID]["title"] == FOLDER_TITLE
    assert grafana.dashboards["riskwatch-hazards"]["dashboard"]["title"] == "隐患排查整改"
    assert grafana.dashboards["riskwatch-hazards"]["dashboard"]["version"] == 2
    assert grafana.datasources[DATASOURCE_UID]["url"] == "postgres:5432"
    assert grafana.unexpected == []


def test_cli_push_reports_changes_and_refuses_a_bad_token(grafana, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    db = "postgresql+psycopg://grafana_reader:s3cret@db.internal:5433/riskwatch"
    runner = CliRunner()
    result = runner.invoke(app, ["dashboards", "push", "--url", grafana.url, "--token", TOKEN, "--db", db,
                                 "--db-host", "postgres:5432"])
    assert result.exit_code == 0, result.output
    assert "9 changed, 0 unchanged" in result.output
    assert re.search(r"dashboard\s+riskwatch-overview\s+created\s+研判总览", result.output)
    assert grafana.datasources[DATASOURCE_UID]["url"] == "postgres:5432"

    result = runner.invoke(app, ["dashboards", "push", "--url", grafana.url, "--token", TOKEN, "--db", db,
                                 "--db-host", "postgres:5432"])
    assert "0 changed, 9 unchanged" in result.output

    result = runner.invoke(app, ["dashboards", "push", "--url", grafana.url, "--token", "wrong", "--db", db])
    assert result.exit_code == 2
    assert "refused" in result.output and "Unauthorized" in result.output


def test_push_needs_a_postgresql_url_and_a_grafana_url():
    runner = CliRunner()
    result = runner.invoke(app, ["dashboards", "push", "--url", "http://127.0.0.1:9", "--token", TOKEN,
                                 "--db", "sqlite:///x.db"])
    assert result.exit_code == 2 and "postgresql" in result.output
    result = runner.invoke(app, ["dashboards", "push", "--url", "grafana:3000", "--token", TOKEN,
                                 "--db", "postgresql+psycopg://u:p@h/d"])
    assert result.exit_code == 2 and "not a Grafana URL" in result.output
