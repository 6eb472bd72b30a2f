"""Server-side sessions: POST /logout ends the session on the server, so the
cookie copied before logout no longer opens anything; the database keeps only the cookie's hash;
form text with NUL or lone surrogates is refused with 422, never a 500."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from pipeline.alerting.records import get_alert
from pipeline.auth import create_token
from tests.pipeline.web.test_pages import HTML, form_value, login


def test_logout_ends_the_session_on_the_server(site, world):
    client, pages = site
    token = create_token(world, "leader-L01", "leader", leader_id="L01")
    done = login(client, token)
    assert done.status_code == 303
    cookie = client.cookies.get("rw_session")
    assert cookie and token not in cookie
    with world.connect() as conn:
        rows = conn.execute(sa.text("SELECT sid_hash, actor, ended_at FROM web_sessions")).all()
    assert [(r.sid_hash, r.actor, r.ended_at) for r in rows] == [
        (hashlib.sha256(cookie.encode()).hexdigest(), "leader-L01", None)]
    page = client.get("/alerts", headers=HTML).text
    out = client.post("/logout", data={"csrf": form_value(page, "csrf")}, follow_redirects=False)
    assert out.status_code == 303
    # the copied cookie, sent again by someone who kept it: logged out on the server
    client.cookies.set("rw_session", cookie)
    assert client.get("/alerts", headers=HTML, follow_redirects=False).status_code == 303
    assert client.get("/a/a1").status_code == 401
    with world.connect() as conn:
        assert conn.execute(sa.text("SELECT ended_at FROM web_sessions")).scalar() is not None


def test_forged_cookies_open_nothing(site, world):
    client, _ = site
    for value in ("x" * 43, "1.abc.123.def.ghi", "", "A" * 500):
        client.cookies.set("rw_session", value)
        assert client.get("/alerts", headers=HTML, follow_redirects=False).status_code == 303


def test_nul_and_surrogates_in_forms_and_queries_give_422(site, world):
    client, pages = site
    token = pages.signer.issue("a1", "L01")
    csrf = form_value(client.get(f"/a/a1?t={token}").text, "csrf")
    for note in ("\x00", "ok\x00 fine"):
        response = client.post("/a/a1/ack", data={"t": token, "csrf": csrf, "note": note})
        assert response.status_code == 422 and "无法识别的字符" in response.text, note
    # bytes that are not UTF-8 in a form body are never a 500 (the form parser replaces them)
    raw = f"t={token}&csrf={csrf}&reason=%ED%A0%80%FF".encode()
    weird = client.post("/a/a1/close", content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert weird.status_code in (200, 422)
    assert get_alert(world.connect(), "a1").status in ("open", "closed")
    for path in ("/a/a1?t=%00", "/a/a%00", "/alerts?building=%00", "/alerts?building=%ED%A0%80"):
        assert client.get(path, headers=HTML).status_code == 422, path


def test_a_token_that_expires_ends_its_sessions(site, world, clock):
    from datetime import UTC, datetime, timedelta

    client, _ = site
    clock.now = datetime.now(UTC)
    token = create_token(world, "leader-L01", "leader", leader_id="L01", expires_at=clock.now + timedelta(hours=1))
    assert login(client, token).status_code == 303
    assert client.get("/alerts", headers=HTML).status_code == 200
    clock.now += timedelta(hours=1, seconds=1)
    assert client.get("/alerts", headers=HTML, follow_redirects=False).status_code == 303
