"""docs/contract.md §9: `riskwatch sources create` and `riskwatch serve` (a real process on SQLite) as another
system uses them — POST /v1/events in every content form, the per-item results, the refusals, health — and
events posted over HTTP give exactly `riskwatch replay`'s rows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.acceptance.kit import RISKWATCH, ROOT, cli, cli_process, event, sqlite_db, write_events

LIMIT = 64 * 1024
NDJSON = "application/x-ndjson"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("serve")
    db = sqlite_db(tmp)
    made = cli_process("sources", "create", "patrol", "--source", "patrol-app", "--db", db)
    assert made.code == 0, made.stderr
    token = made.stdout.splitlines()[-1]
    other = cli_process("sources", "create", "gone", "--source", "sensor-gw", "--db", db).stdout.splitlines()[-1]
    assert cli_process("sources", "revoke", "gone", "--db", db).code == 0
    port = free_port()
    env = {**os.environ, "RISKWATCH_INGEST_BODY_LIMIT": str(LIMIT)}
    with open(tmp / "serve.log", "wb") as log:
        proc = subprocess.Popen([RISKWATCH, "serve", "--port", str(port), "--no-pages", "--no-notify", "--clock", "event",
                                 "--db", db], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "serve.log").read_text()
            try:
                if client.get("/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.2)
        yield {"client": client, "token": token, "revoked": other, "db": db, "tmp": tmp}
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def post(served: dict, body: bytes | str, content_type: str = NDJSON, token: str | None = "default") -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {served['token'] if token == 'default' else token}"
    return served["client"].post("/v1/events", content=body if isinstance(body, bytes) else body.encode(), headers=headers)


def ev(eid: str, at: str = "2024-11-05T09:30:00+08:00", **fields) -> dict:
    return event(eid, "patrol", "checkpoint_visit", at, "patrol-app", **fields)


def test_token_is_alone_on_the_last_line(served: dict) -> None:
    assert served["token"] and " " not in served["token"]
    listed = cli_process("sources", "list", "--db", served["db"])
    assert listed.code == 0 and served["token"] not in listed.stdout  # shown once, stored hashed


def test_sources_commands_take_config(served: dict) -> None:
    """§5: `--config DIR` (every command)."""
    config = served["tmp"] / "config"
    config.mkdir(exist_ok=True)
    made = cli("sources", "create", "cfg-src", "--source", "patrol-app", "--config", config, "--db", served["db"])
    assert made.code == 0, made.stderr
    assert cli("sources", "list", "--config", config, "--db", served["db"]).code == 0
    assert cli("sources", "revoke", "cfg-src", "--config", config, "--db", served["db"]).code == 0
    r = post(served, json.dumps(ev("cfg-1")), "application/json", token=made.stdout.splitlines()[-1])
    assert r.status_code == 401


def test_ndjson_results_per_item(served: dict) -> None:
    body = "\n".join([
        json.dumps(ev("h-1")),
        "{not json",
        json.dumps({**ev("h-2"), "source": "sensor-gw"}),
        json.dumps(ev("h-3", at="9999-01-01T00:00:00+08:00")),
        json.dumps(ev("h-1")),  # a duplicate: accepted here, counted downstream
        json.dumps({**ev("h-4"), "attributes": {"民族": "汉"}}),
    ]) + "\n"
    r = post(served, body)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "rejected": 4, "results": [
        {"item": 1, "event_id": "h-1", "status": "accepted"},
        {"item": 2, "event_id": None, "status": "rejected", "reason": "invalid_json"},
        {"item": 3, "event_id": "h-2", "status": "rejected", "reason": "invalid_field:source"},
        {"item": 4, "event_id": "h-3", "status": "rejected", "reason": "future_timestamp"},
        {"item": 5, "event_id": "h-1", "status": "accepted"},
        {"item": 6, "event_id": "h-4", "status": "rejected", "reason": "invalid_field:attributes.民族"},
    ]}


def test_json_array_and_single_object(served: dict) -> None:
    r = post(served, json.dumps([ev("a-1"), 5, {**ev("a-2"), "extra": 1}]), "application/json")
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "rejected": 2, "results": [
        {"item": 1, "event_id": "a-1", "status": "accepted"},
        {"item": 2, "event_id": None, "status": "rejected", "reason": "not_an_object"},
        {"item": 3, "event_id": "a-2", "status": "rejected", "reason": "unknown_field:extra"},
    ]}
    r = post(served, json.dumps(ev("o-1")), "application/json; charset=utf-8")
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "rejected": 0, "results": [{"item": 1, "event_id": "o-1", "status": "accepted"}]}


@pytest.mark.parametrize("token", [None, "not-a-token", "revoked"])
def test_401_without_a_valid_token(served: dict, token: str | None) -> None:
    r = post(served, json.dumps(ev("t-1")) + "\n", token=served["revoked"] if token == "revoked" else token)
    assert r.status_code == 401


def test_415_and_413(served: dict) -> None:
    assert post(served, json.dumps(ev("c-1")), "text/plain").status_code == 415
    big = (json.dumps(ev("b-1")) + "\n") * (LIMIT // 100 + 10)
    assert len(big) > LIMIT
    assert post(served, big).status_code == 413


def test_health(served: dict) -> None:
    assert served["client"].get("/v1/health").status_code == 200


THREAT_RULES = """
version: 1
rules:
  - id: threat
    title: 暴力威胁
    category: dispute
    target: person
    type: match
    when: {kind: dispute, tags: {any: [threat_of_violence]}}
    score: 60
    alert: true
"""


def test_events_over_http_give_replays_rows(tmp_path: Path) -> None:
    """One serve on its own database, fed one file over HTTP in order; replay --db of the same file: same rows."""
    events = [
        event(f"m-{i}", "monitoring", "smoke_alarm", f"2024-11-05T{8 + i:02d}:00:00+08:00", "sensor-gw",
              location={"id": "HD-1-0501", "building": "1"}) for i in range(6)
    ] + [event("d-1", "dispute", "reported", "2024-11-05T15:00:00+08:00", "sensor-gw", tags=["threat_of_violence"],
               subjects=[{"type": "person", "id": "P-0007", "role": "party"}], attributes={"case_id": "MD-1"})]
    lines = [json.dumps(e) for e in events] + [json.dumps(events[0]), "{bad"]
    path = write_events(tmp_path / "e.jsonl", lines)
    oracle = sqlite_db(tmp_path, "oracle.db")
    assert cli("replay", path, "--db", oracle).code == 0
    db = sqlite_db(tmp_path, "serve.db")
    token = cli_process("sources", "create", "gw", "--source", "sensor-gw", "--db", db).stdout.splitlines()[-1]
    port = free_port()
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen([RISKWATCH, "serve", "--port", str(port), "--no-pages", "--no-notify", "--clock", "event",
                                 "--db", db], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
            r = client.post("/v1/events", content="\n".join(lines).encode(),
                            headers={"Authorization": f"Bearer {token}", "Content-Type": NDJSON})
            assert r.status_code == 200 and (r.json()["accepted"], r.json()["rejected"]) == (8, 1), r.text
        deadline = time.monotonic() + 60
        while rows(db)["alerts"] != rows(oracle)["alerts"] or rows(db)["contributions"] != rows(oracle)["contributions"]:
            assert time.monotonic() < deadline, (rows(db), rows(oracle))
            time.sleep(0.5)
        assert rows(db) == rows(oracle)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rows(url: str) -> dict[str, list[tuple]]:
    """What both write (docs/contract.md §6: events, contributions, alerts), without surrogate keys or wall-clock
    columns. HTTP rejections are answered to the client, not stored, and duplicates are counted differently, so
    neither is compared."""
    queries = {
        "events": "SELECT event_id, kind, type, occurred_at, source FROM events",
        "contributions": "SELECT entity, rule, round(points, 6), fired_at FROM contributions",
        "alerts": "SELECT alert_id, entity, level, assignee, raised_at, status FROM alerts",
        "alert_history": "SELECT alert_id, action, level, at FROM alert_history",
    }
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {k: sorted(tuple(map(str, r)) for r in conn.execute(sa.text(q))) for k, q in queries.items()}
    finally:
        engine.dispose()



def test_edge_bodies(served: dict) -> None:
    """Blank NDJSON lines are not items; a body that is not JSON is one rejected item; an event without
    `source` is missing_field:source (not the token's invalid_field:source)."""
    blank = post(served, json.dumps(ev("p-1")) + "\n\n" + json.dumps(ev("p-2")) + "\r\n").json()
    assert [(r["item"], r["event_id"]) for r in blank["results"]] == [(1, "p-1"), (2, "p-2")]
    assert post(served, "[]", "application/json").json() == {"accepted": 0, "rejected": 0, "results": []}
    assert post(served, "{oops", "application/json").json() == {"accepted": 0, "rejected": 1, "results": [
        {"item": 1, "event_id": None, "status": "rejected", "reason": "invalid_json"}]}
    no_source = {k: v for k, v in ev("p-3").items() if k != "source"}
    assert post(served, json.dumps(no_source) + "\n").json()["results"] == [
        {"item": 1, "event_id": "p-3", "status": "rejected", "reason": "missing_field:source"}]
    assert post(served, json.dumps(ev("p-6")), "application/x-ndjson; charset=utf-8").status_code == 200
    unlabelled = served["client"].post("/v1/events", content=json.dumps(ev("p-7")).encode(),
                                       headers={"Authorization": f"Bearer {served['token']}"})
    assert unlabelled.status_code == 415
