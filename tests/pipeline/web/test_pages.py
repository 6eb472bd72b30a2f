"""The alert page and list page over SQLite (TestClient): content in Chinese, security headers, the
phone flow through one link (acknowledge, then close, as long as the alert is the leader's; history
+ audit, same code path as the API), the deadline and next escalation step, refusals that change
nothing, CSRF, the logged-in leader's list with filters, /alerts JSON unchanged for API clients,
`riskwatch api` refusing to serve the pages without the secret, links in notices."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline import audit
from pipeline.alerting.records import get_alert, history_of
from pipeline.auth import create_token, revoke
from tests.pipeline.web.pagekit import BASE, SECRET, kit, peers

HTML = {"Accept": "text/html,application/xhtml+xml"}


def path(url: str) -> str:
    return url.removeprefix(BASE)


def form_value(html: str, name: str, form: int = 0) -> str | None:
    forms = re.findall(r"<form\b.*?</form>", html, re.S)
    match = re.search(rf'name="{name}" value="([^"]*)"', forms[form])
    return unescape(match.group(1)) if match else None


def test_page_shows_the_alert_in_chinese_with_security_headers(site):
    client, pages = site
    url = pages.signer.url("a1", "L01")
    response = client.get(path(url))
    assert response.status_code == 200, response.text
    html = response.text
    for text in ("地点", "1号楼12层1203室", "1号楼", "12 层", "较大", "70", "烟感报警", "室内烟感报警，物业已到场核查。",
                 "产生预警", "确认收到", "已处置 / 关闭", "1号楼包保领导（L01）", "<svg", "风险分值变化"):
        assert text in html, text
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)                 # nothing from elsewhere
    headers = response.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    css = client.get("/static/page.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    # the pages are not in the API's OpenAPI document
    assert not any(p.startswith(("/a/", "/login", "/logout", "/static")) for p in client.get("/openapi.json").json()["paths"])


def test_one_link_acknowledges_then_closes_while_the_alert_is_theirs(site, world, clock):
    client, pages = site
    url = pages.signer.url("a1", "L01")
    html = client.get(path(url)).text
    # the deadline and the next escalation step (high: 4 h, L01's chain starts with L05 分管副主任)
    assert "确认期限：2024-11-05 13:30" in html and "4小时内未确认将上报分管副主任（L05）" in html
    token, csrf = form_value(html, "t"), form_value(html, "csrf")
    response = client.post("/a/a1/ack", data={"t": token, "csrf": csrf, "note": "已安排物业核查"})
    assert response.status_code == 200, response.text
    assert "已确认收到" in response.text and form_value(response.text, "t") == token   # the link goes on working
    assert "确认期限" not in response.text
    alert = get_alert(world.connect(), "a1")
    assert alert.status == "acknowledged"
    with world.connect() as conn:
        ack = [h for h in history_of(conn, "a1") if h.action == "acknowledged"]
    assert [(h.actor, h.detail, h.at) for h in ack] == [("link:L01", {"note": "已安排物业核查"}, clock.now)]
    assert [(r.actor, r.detail) for r in audit.list_records(world, action=audit.ACKNOWLEDGE)] == [
        ("link:L01", {"alert_id": "a1"})]
    # progress notes through the same link, shown on the page, kept on the case with who and when
    blank = client.post("/a/a1/note", data={"t": token, "csrf": csrf, "text": "  "})
    assert blank.status_code == 422 and "请填写处置进展" in blank.text
    noted = client.post("/a/a1/note", data={"t": token, "csrf": csrf, "kind": "measure", "text": "物业已清理楼道杂物"})
    assert noted.status_code == 200 and "处置进展已记录" in noted.text
    assert "物业已清理楼道杂物" in noted.text and "1号楼包保领导（L01，通知链接）" in noted.text
    from pipeline.cases.actions import case_actions

    with world.connect() as conn:
        recorded = case_actions(conn, "alert:a1")
    assert [(r.action, r.note_kind, r.actor, r.text, r.at) for r in recorded] == [
        ("note", "measure", "link:L01", "物业已清理楼道杂物", clock.now)]
    assert [r.detail for r in audit.list_records(world, action="case_note")] == [{"case": "alert:a1"}]
    # the same link later: the page again, and closing needs a reason, then closes
    again = client.get(path(url))
    assert again.status_code == 200 and 'id="close"' in again.text and 'id="addnote"' in again.text
    assert client.post("/a/a1/close", data={"t": token, "csrf": csrf, "reason": " "}).status_code == 422
    closing = client.post("/a/a1/close", data={"t": token, "csrf": csrf, "reason": "已清理，物业复查无隐患"})
    assert closing.status_code == 200, closing.text[:3000]
    assert get_alert(world.connect(), "a1").status == "closed"
    assert 'id="addnote"' not in closing.text and 'id="close"' not in closing.text     # nothing left to do
    # escalation no longer fires for it (docs/contract.md §5: unacknowledged alerts escalate)
    from pipeline.alerting.escalation import due_escalations
    from pipeline.configset import load_config

    with world.connect() as conn:
        due = due_escalations(conn, load_config().assignments, kit.T0 + timedelta(days=2))
    assert "a1" not in {e.alert.alert_id for e in due} and "a2" in {e.alert.alert_id for e in due}


def test_after_a_reassignment_the_old_owners_link_stops_and_the_new_owners_acts(site, world):
    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import reassign
    from pipeline.configset import load_config

    client, pages = site
    old, new = pages.signer.issue("a1", "L01"), pages.signer.issue("a1", "L03")
    csrf = form_value(client.get(f"/a/a1?t={old}").text, "csrf")
    assert client.get(f"/a/a1?t={new}").status_code == 403                 # L03 does not answer for L01's alert
    reassign(world, load_config().assignments, "alert:a1", Principal("analyst-1", "analyst"), "L03", "转消防专班处理")
    before = kit.snapshot(world)
    refused = client.post("/a/a1/ack", data={"t": old, "csrf": csrf})
    assert refused.status_code == 403 and "无权处理" in refused.text and kit.snapshot(world) == before
    page = client.get(f"/a/a1?t={new}")
    assert page.status_code == 200
    ack = client.post("/a/a1/ack", data={"t": new, "csrf": form_value(page.text, "csrf")})
    assert ack.status_code == 200 and get_alert(world.connect(), "a1").status == "acknowledged"


def test_an_old_alert_still_shows_the_reasons_that_raised_it(site, world, clock):
    client, pages = site
    clock.now = kit.T0 + timedelta(days=200)            # past the reason horizon from now: long decayed
    token = pages.signer.issue("a1", "L01", now=clock.now)
    html = client.get(f"/a/a1?t={token}").text
    assert "暂无计分记录" not in html and "烟感报警" in html
    assert re.search(r"计 70 分，预警时 70 分，当前 0 分", html), html[html.find("主要原因"):][:600]


def test_a_link_stops_acting_once_the_alert_is_no_longer_theirs(site, world):
    client, pages = site
    token = pages.signer.issue("a1", "L01")
    csrf = form_value(client.get(f"/a/a1?t={token}").text, "csrf")
    with world.begin() as conn:                                  # reassigned to building 2's leader
        conn.execute(sa.text("UPDATE alerts SET assignee = 'L02' WHERE alert_id = 'a1'"))
    before = kit.snapshot(world)
    assert client.get(f"/a/a1?t={token}").status_code == 403
    refused = client.post("/a/a1/ack", data={"t": token, "csrf": csrf})
    assert refused.status_code == 403 and "无权处理" in refused.text
    assert kit.snapshot(world) == before


def test_close_needs_a_reason_and_lands_in_history_and_audit(site, world):
    client, pages = site
    url = pages.signer.url("a1", "L05")        # L05 is on L01's chain: answers for a1 too
    html = client.get(path(url)).text
    token, csrf = form_value(html, "t", 1), form_value(html, "csrf", 1)
    before = kit.snapshot(world)
    blank = client.post("/a/a1/close", data={"t": token, "csrf": csrf, "reason": "   "})
    assert blank.status_code == 422 and "请填写" in blank.text
    assert kit.snapshot(world) == before
    done = client.post("/a/a1/close", data={"t": token, "csrf": csrf, "reason": "已清理楼道电动车"})
    assert done.status_code == 200 and "预警已关闭" in done.text
    assert get_alert(world.connect(), "a1").status == "closed"
    [record] = audit.list_records(world, action="alert_close")
    assert (record.actor, record.detail) == ("link:L05", {"alert_id": "a1"})


def test_expired_forged_and_foreign_links_are_refused_and_change_nothing(site, world, clock):
    client, pages = site
    before = kit.snapshot(world)
    expired = pages.signer.issue("a1", "L01", now=clock.now - timedelta(hours=72, seconds=1))
    page = client.get(f"/a/a1?t={expired}")
    assert page.status_code == 410 and "链接已过期" in page.text and "72 小时" in page.text
    assert "/login" in page.text and "/alerts/a1/ack" in page.text
    good = pages.signer.issue("a1", "L01")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert client.get(f"/a/a1?t={forged}").status_code == 403
    assert "链接无效" in client.get(f"/a/a1?t={forged}").text
    assert client.get(f"/a/a2?t={good}").status_code == 403            # a1's link does not open a2
    other = pages.signer.issue("a2", "L01")                             # L01 does not answer for a2
    refused = client.get(f"/a/a2?t={other}")
    assert refused.status_code == 403 and "无权处理" in refused.text
    assert client.get("/a/nope?t=" + pages.signer.issue("nope", "L01")).status_code == 404
    html = client.get(f"/a/a1?t={good}").text
    csrf = form_value(html, "csrf")
    for data in ({"t": expired, "csrf": csrf}, {"t": forged, "csrf": csrf}, {"t": other, "csrf": csrf}):
        assert client.post("/a/a1/ack", data=data).status_code in (403, 410)
    assert client.post("/a/a2/ack", data={"t": other, "csrf": csrf}).status_code == 403
    assert client.get("/a/a1").status_code == 401                       # neither link nor login
    assert kit.snapshot(world) == before


def test_forms_need_their_csrf_token_and_same_site(site, world):
    client, pages = site
    token = pages.signer.issue("a1", "L01")
    html = client.get(f"/a/a1?t={token}").text
    csrf = form_value(html, "csrf")
    before = kit.snapshot(world)
    assert client.post("/a/a1/ack", data={"t": token}).status_code == 403
    assert client.post("/a/a1/ack", data={"t": token, "csrf": csrf[:-2] + "xx"}).status_code == 403
    other_link = form_value(client.get(f"/a/a1?t={pages.signer.issue('a1', 'L01')}").text, "csrf")
    assert client.post("/a/a1/ack", data={"t": token, "csrf": other_link}).status_code == 403   # bound to the link
    evil = client.post("/a/a1/ack", data={"t": token, "csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "请求被拒绝" in evil.text
    fetch = client.post("/a/a1/ack", data={"t": token, "csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch.status_code == 403
    assert kit.snapshot(world) == before
    # the link is still good after all those refusals
    ok = client.post("/a/a1/ack", data={"t": token, "csrf": csrf}, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200 and get_alert(world.connect(), "a1").status == "acknowledged"


def test_acknowledging_an_acknowledged_alert_keeps_the_link(site, world):
    client, pages = site
    token = pages.signer.issue("a1", "L01")
    csrf = form_value(client.get(f"/a/a1?t={token}").text, "csrf")
    from pipeline.alerting import actions

    actions.acknowledge(world, "a1", "leader-L01", None)
    response = client.post("/a/a1/ack", data={"t": token, "csrf": csrf})
    assert response.status_code == 409 and "已确认" in response.text
    closing = client.post("/a/a1/close", data={"t": token, "csrf": csrf, "reason": "误报"})
    assert closing.status_code == 200, closing.text[:3000]
    assert get_alert(world.connect(), "a1").status == "closed"
    assert 'id="addnote"' not in closing.text and 'id="close"' not in closing.text     # nothing left to do


def login(client, token: str):
    form = client.get("/login")
    assert form.status_code == 200 and "个人令牌" in form.text
    return client.post("/login", data={"token": token, "csrf": form_value(form.text, "csrf")}, follow_redirects=False)


def test_list_page_for_a_logged_in_leader(site, world):
    client, pages = site
    l01 = create_token(world, "leader-L01", "leader", leader_id="L01")
    viewer = create_token(world, "viewer-1", "viewer")
    first = client.get("/alerts", headers=HTML, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login"
    # API clients still get the JSON API on the same path
    api = client.get("/alerts", headers={"Authorization": f"Bearer {l01}", **HTML})
    assert api.status_code == 200 and {a["alert_id"] for a in api.json()["alerts"]} == {"a1", "a3"}
    assert client.get("/alerts").status_code == 401
    assert login(client, "rw_wrong").status_code == 401
    assert login(client, viewer).status_code == 403
    done = login(client, l01)
    assert done.status_code == 303 and done.headers["location"] == "/alerts"
    cookie = done.headers["set-cookie"]
    assert "rw_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert l01 not in cookie
    page = client.get("/alerts", headers=HTML)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    ids = re.findall(r'href="/a/(\w+)"', page.text)
    assert ids == ["a3", "a1"]                                  # highest level first; a2 is L02's
    assert re.findall(r'href="/a/(\w+)"', client.get("/alerts?level=high", headers=HTML).text) == ["a1"]
    assert re.findall(r'href="/a/(\w+)"', client.get("/alerts?building=2", headers=HTML).text) == []
    assert "1号楼" in page.text and "重大" in page.text
    # the page of one of them, without a link token: acts as the token's actor
    html = client.get("/a/a1").text
    assert "确认收到" in html and 'name="t"' not in html
    assert client.get("/a/a2").status_code == 403
    ack = client.post("/a/a1/ack", data={"csrf": form_value(html, "csrf"), "note": "收到"})
    assert ack.status_code == 200 and get_alert(world.connect(), "a1").status == "acknowledged"
    with world.connect() as conn:
        assert [h.actor for h in history_of(conn, "a1") if h.action == "acknowledged"] == ["leader-L01"]
    assert [r.actor for r in audit.list_records(world, action="page_login")] == ["leader-L01"]
    # a revoked token logs its sessions out at once
    revoke(world, l01)
    assert client.get("/alerts", headers=HTML, follow_redirects=False).status_code == 303


def test_logout_needs_csrf(site, world):
    client, _ = site
    token = create_token(world, "leader-L02", "leader", leader_id="L02")
    login(client, token)
    page = client.get("/alerts", headers=HTML).text
    assert client.post("/logout", data={"csrf": "1.x"}).status_code == 403
    out = client.post("/logout", data={"csrf": form_value(page, "csrf")}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/alerts", headers=HTML, follow_redirects=False).status_code == 303


def test_api_command_refuses_to_serve_the_pages_without_the_secret(monkeypatch, tmp_path):
    from pipeline.cli import app

    monkeypatch.delenv("RISKWATCH_LINK_SECRET", raising=False)
    result = CliRunner().invoke(app, ["api", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "RISKWATCH_LINK_SECRET is not set" in lines[0] and "--no-pages" in lines[0]
    monkeypatch.setenv("RISKWATCH_LINK_SECRET", "too-short")
    result = CliRunner().invoke(app, ["api", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2 and "too short" in result.stderr and "too-short" not in result.stderr
    monkeypatch.setenv("RISKWATCH_LINK_SECRET", "a" * 32)
    result = CliRunner().invoke(app, ["api", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2 and "too easy to guess" in result.stderr and "a" * 32 not in result.stderr


def test_every_notice_carries_its_leaders_signed_link(world, config, clock):
    from pipeline.notify.channels.webhook import WebhookOptions
    from pipeline.notify.notifier import Notifier
    from pipeline.web.links import Keys, LinkSigner

    receiver = peers.Receiver()
    try:
        signer = LinkSigner(Keys.from_secret(SECRET), BASE, clock=clock)
        chans = kit.channels({"L01": [("webhook", WebhookOptions(url=receiver.url + "/L01"))],
                              "L05": [("webhook", WebhookOptions(url=receiver.url + "/L05"))]})
        n = Notifier(world, config, chans, grafana_url="http://grafana.test", clock=clock, sleep=clock.sleep,
                     env={}, alert_link=signer.url)
        assert n.run_once(flush=True).sent >= 1
        clock.now = kit.T0 + timedelta(hours=5)                     # past high's 4 h: a1 escalates to L05
        n.run_once(flush=True)
        n.close()
        seen = set()
        for request in receiver.effective:
            leader = request.path.rsplit("/", 1)[1]
            for notice in request.body["notices"]:
                [link] = [x["url"] for x in notice["links"] if x["label"] == "确认收到 / 处置"]
                alert_id, token = re.match(rf"{BASE}/a/(\w+)\?t=(\S+)$", link).groups()
                claim = signer.verify(alert_id, token, clock.now)
                assert (claim.alert_id, claim.leader_id) == (notice["alert_id"], leader)
                seen.add((leader, notice["kind"], alert_id))
        assert {("L01", "raised", "a1"), ("L05", "escalated", "a1")} <= seen
    finally:
        receiver.close()


def test_the_notifier_service_signs_links_when_the_secret_is_set(monkeypatch, caplog):
    import logging

    from pipeline.settings import load_settings
    from pipeline.web.links import alert_link_hook

    monkeypatch.delenv("RISKWATCH_LINK_SECRET", raising=False)
    with caplog.at_level(logging.WARNING):
        assert alert_link_hook(load_settings(), logging.getLogger("t")) is None
    assert "without the alert page link" in caplog.text
    monkeypatch.setenv("RISKWATCH_LINK_SECRET", SECRET)
    monkeypatch.setenv("RISKWATCH_PUBLIC_URL", "https://rw.example.invalid")
    hook = alert_link_hook(load_settings())
    assert hook("a1", "L01").startswith("https://rw.example.invalid/a/a1?t=2.")
