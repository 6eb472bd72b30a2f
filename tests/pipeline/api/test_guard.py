"""The API's guards before FastAPI reads anything: bodies over the
limit refused before they are read (Content-Length or streamed), credentials checked before the body
is read or parsed, NUL / non-UTF-8 / lone surrogates in path, query and JSON give 422, one 401
message for unknown and revoked tokens, a 422 never echoes the input, JSON carries no-store, and
/docs loads nothing from elsewhere."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pipeline.auth import create_token, revoke
from tests.pipeline.notify import alertkit as kit

MiB = 1024 * 1024


@pytest.fixture
def api(engine, config):
    from pipeline.api.app import create_app

    kit.raise_alert(engine, "a1", "location:HD-1-1203", "L01", kit.T0)
    app = create_app(engine, config.assignments, lambda: kit.T0)
    admin = create_token(engine, "admin-1", "admin")
    return app, TestClient(app), admin


def call(app, method: str, path: str, headers: dict[str, str], chunks: int, chunk: bytes = b"x" * MiB) -> dict:
    """Drive the ASGI app with a body of `chunks` chunks; report status, body and chunks read."""
    sent = {"read": 0}
    out: dict = {"status": None, "body": b""}

    async def receive():
        if sent["read"] < chunks:
            sent["read"] += 1
            return {"type": "http.request", "body": chunk, "more_body": sent["read"] < chunks}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    path_only, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path_only, "raw_path": path_only.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    return {**out, "read": sent["read"]}


def test_an_unauthenticated_64_mib_body_is_never_read(api):
    app, _, admin = api
    tracemalloc.start()
    try:
        declared = call(app, "POST", "/alerts/a1/ack", {"content-length": str(64 * MiB)}, 64)
        streamed = call(app, "POST", "/alerts/a1/ack", {"content-type": "application/json"}, 64)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (declared["status"], declared["read"]) == (413, 0)        # over the limit: refused before reading
    assert (streamed["status"], streamed["read"]) == (401, 0)        # no Content-Length: no token, no reading
    assert json.loads(streamed["body"]) == {"detail": "missing, unknown or revoked credentials"}
    assert peak < 8 * MiB
    for path in ("/cases/hazard:HZ-1/notes", "/decisions", "/decisions/1/done"):   # the cases API alike
        refused = call(app, "POST", path, {"content-type": "application/json"}, 64)
        assert (refused["status"], refused["read"]) == (401, 0), path
    # with a valid token, a streamed body stops being read just past the limit (64 KiB by default)
    authed = call(app, "POST", "/alerts/a1/ack", {"authorization": f"Bearer {admin}",
                                                  "content-type": "application/json"}, 64, b"x" * 16384)
    assert authed["status"] == 413 and authed["read"] <= 64 * 1024 // 16384 + 1


def test_body_limits_per_path_are_reusable(api):
    app, client, admin = api
    app.state.guards.limit("/v1/events", 5 * MiB)
    assert app.state.guards.auth and app.state.guards.limits == {"/v1/events": 5 * MiB}
    big = client.post("/v1/events", content=b"x" * (1 * MiB))              # under its own limit: reaches routing
    assert big.status_code == 404
    assert client.post("/v1/events", content=b"x" * (5 * MiB + 1)).status_code == 413
    assert client.post("/alerts/a1/ack", content=b"{}" + b" " * (64 * 1024),
                       headers={"Authorization": f"Bearer {admin}"}).status_code == 413


def test_nul_and_surrogates_give_422_not_500(api):
    _, client, admin = api
    bearer = {"Authorization": f"Bearer {admin}"}
    for path in ("/alerts?building=%00", "/alerts?building=%ED%A0%80", "/alerts?building=%FF", "/alerts/a%00b",
                 "/alerts/%ED%A0%80"):
        response = client.get(path, headers=bearer)
        assert response.status_code == 422, path
        assert "Traceback" not in response.text
    for body in ('{"note": "\\u0000"}', '{"note": "\\ud800"}', '{"note": "ok\\udfff"}'):
        response = client.post("/alerts/a1/ack", content=body, headers={**bearer, "Content-Type": "application/json"})
        assert response.status_code == 422, body
    for body in ('{"reason": "\\u0000"}', '{"reason": "\\ud800 closed"}'):
        response = client.post("/alerts/a1/close", content=body, headers={**bearer, "Content-Type": "application/json"})
        assert response.status_code == 422, body
    assert client.get("/alerts/a1", headers=bearer).json()["status"] == "open"      # nothing changed


def test_one_401_message_for_unknown_and_revoked_tokens(api, engine):
    _, client, _ = api
    token = create_token(engine, "viewer-1", "viewer")
    revoke(engine, token)
    unknown = client.get("/alerts", headers={"Authorization": "Bearer rw_nope"})
    revoked = client.get("/alerts", headers={"Authorization": f"Bearer {token}"})
    missing = client.get("/alerts")
    assert unknown.status_code == revoked.status_code == missing.status_code == 401
    assert unknown.json() == revoked.json() == missing.json() == {"detail": "missing, unknown or revoked token"}


def test_422_does_not_echo_the_input_and_json_is_not_stored(api):
    _, client, admin = api
    secret_text = "P-0007 住在 1203 " * 40
    response = client.post("/alerts/a1/close", json={"reason": secret_text},
                           headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 422
    assert "P-0007" not in response.text and response.json()["detail"][0]["loc"] == ["body", "reason"]
    extra = client.post("/alerts/a1/ack", json={"note": "x", "leak": secret_text},
                        headers={"Authorization": f"Bearer {admin}"})
    assert extra.status_code == 422 and "P-0007" not in extra.text
    for r in (response, client.get("/alerts", headers={"Authorization": f"Bearer {admin}"}), client.get("/healthz"),
              client.get("/openapi.json"), client.get("/alerts")):
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"


def test_docs_load_nothing_from_elsewhere(api):
    _, client, _ = api
    page = client.get("/docs")
    assert page.status_code == 200 and "/alerts/{alert_id}/ack" in page.text
    assert "<script" not in page.text.lower() and "cdn" not in page.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers
    assert client.get("/redoc").status_code == 404


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _send_until_answered(port: int, head: bytes, chunks, budget_s: float = 20.0) -> tuple[bytes, int]:
    """Send the request head, then body pieces until the server answers or hangs up; (answer, bytes sent)."""
    import socket
    import time

    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        deadline = time.monotonic() + budget_s
        for piece in chunks:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            except OSError:
                break
            if answer or time.monotonic() > deadline:
                break
            try:
                sock.setblocking(True)
                sock.settimeout(2)
                sock.sendall(piece)
                sent += len(piece)
                sock.setblocking(False)
            except OSError:              # the server hung up: it will not read the rest
                break
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            while b"\r\n\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
    return answer, sent


def test_a_real_server_refuses_64_mib_unauthenticated_bodies_without_holding_them(api):
    """uvicorn on 127.0.0.1: a declared 64 MiB body gets 413 before any of it is read; a chunked one
    without a token gets 401 after at most a few pieces; the server's memory does not grow by the body."""
    import threading
    import time

    import uvicorn

    from tests.pipeline.notify.notify_peers import free_port

    app, _, _ = api
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        before = _rss_bytes()
        piece = b"x" * MiB
        declared, _ = _send_until_answered(port, (
            b"POST /alerts/a1/ack HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 67108864\r\n\r\n"), (piece for _ in range(64)))
        assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
        chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
        streamed, sent = _send_until_answered(port, (
            b"POST /alerts/a1/ack HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"), (chunk for _ in range(64)))
        assert streamed.startswith(b"HTTP/1.1 401"), streamed[:200]
        grown = _rss_bytes() - before
    finally:
        server.should_exit = True
        thread.join(10)
    assert sent < 64 * MiB and grown < 32 * MiB, (sent, grown)


def test_no_text_anywhere_gives_a_500(engine, config):
    """Property: whatever characters (NUL, lone surrogates, controls, anything) reach the query, the
    path or a JSON body, the API answers 2xx/4xx, never 500."""
    from urllib.parse import quote_from_bytes

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pipeline.api.app import create_app

    kit.raise_alert(engine, "a1", "location:HD-1-1203", "L01", kit.T0)
    client = TestClient(create_app(engine, config.assignments, lambda: kit.T0), raise_server_exceptions=False)
    admin = {"Authorization": f"Bearer {create_token(engine, 'admin-2', 'admin')}"}
    anything = st.text(alphabet=st.characters(blacklist_categories=()), max_size=40)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(anything)
    def probe(text: str) -> None:
        raw = quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")
        for response in (client.get(f"/alerts?building={raw}", headers=admin),
                         client.get(f"/alerts/{raw or 'x'}", headers=admin),
                         client.post("/alerts/nope/ack", content=json.dumps({"note": text}),
                                     headers={**admin, "Content-Type": "application/json"})):
            assert response.status_code < 500, (text, response.status_code, response.text[:200])

    probe()
