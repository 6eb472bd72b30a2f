"""The leader's alert page in a real browser: Debian's Chromium driven by playwright-core
(tests/browser/run.mjs; no browser download), the API and pages served by uvicorn on 127.0.0.1 over
a PostgreSQL database of its own (rw_page_<uuid>) holding a replayed simulated week.

The notifier sends its mail to a local SMTP server (aiosmtpd); the link is taken from that mail,
opened at 360×740, read, and 确认收到 tapped. Then the database must say the alert is acknowledged
by that leader, an escalation pass past ack_timeout must not escalate it, the link must not work a
second time, expired and forged links must be refused, the page must not scroll sideways, and no
link token may reach the server's access log. The first screen goes to alert-page.png (tests/integration/shots.py).

Chromium and playwright-core are installed by `make install` (scripts/apt-ensure.sh, npm ci in
tests/browser); when missing the tests skip, except under CI where they fail.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.alerting.records import history_of
from pipeline.storage import db
from tests.integration import pgkit
from tests.integration.shots import screenshot_dir
from tests.integration.test_alert_delivery_pg import kit, peers  # the alert delivery tests' helpers

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = ROOT / "tests" / "browser"
SHOTS = screenshot_dir()
SCREENSHOT = SHOTS / "alert-page.png"
FLOW_SCREENSHOT = SHOTS / "phone-flow.png"
CHROMIUM = os.environ.get("RISKWATCH_CHROMIUM", "/usr/bin/chromium")
SECRET = "browser-test-link-secret-" + "0123456789abcdef" * 2
WEEK_END = datetime(2024, 11, 10, 16, 0, tzinfo=UTC)        # 2024-11-11 00:00 in Shanghai: end of the simulated week
TARGET = "location:HD-1-1203"                                # e-bike charging then smoke: critical, L01 (building 1)


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI: `make install` must provide it)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_tools() -> list[str]:
    """The command that runs the scenario script; skip (fail under CI) without Chromium, Node or
    playwright-core. A missing tests/browser/node_modules is installed from the lockfile (npm ci)."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium not found at {CHROMIUM}: `make install` installs Debian's chromium")
    node = shutil.which("node")
    if node is None:
        _unavailable("node not found: Node.js 20+ runs the browser tests (tests/browser/run.mjs)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core" / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("playwright-core not installed and npm not found: run `make install`")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BROWSER_DIR,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"})
        if done.returncode != 0:
            _unavailable(f"npm ci in tests/browser failed: {done.stderr.strip()[-500:]}")
    return [node, str(BROWSER_DIR / "run.mjs")]


def run_browser(tools: list[str], scenario: str, payload: dict) -> dict:
    done = subprocess.run([*tools, scenario], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=90, cwd=ROOT, env={**os.environ, "RISKWATCH_CHROMIUM": CHROMIUM})
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"run.mjs {scenario}: no JSON (exit {done.returncode}): {done.stdout[-500:]} {done.stderr[-2000:]}")
    if done.returncode != 0 or "error" in result:
        pytest.fail(f"run.mjs {scenario} failed: {result.get('error')}\n{done.stderr[-2000:]}")
    return result


@pytest.fixture(scope="module")
def week_db(pg_url, tmp_path_factory):
    """A database of its own holding the simulated week (`riskwatch simulate`, `riskwatch replay`)."""
    from pipeline.cli import app

    with pgkit.scratch_database(pg_url, "page") as url:
        engine = db.make_engine(url)
        try:
            events = tmp_path_factory.mktemp("week") / "week.jsonl"
            run = CliRunner().invoke
            with pgkit.server_lock():
                made = run(app, ["simulate", "--days", "7", "--seed", "7", "--to", str(events)])
                assert made.exit_code == 0, made.output
                replayed = run(app, ["replay", str(events), "--db", url])
                assert replayed.exit_code == 0, replayed.output
            yield engine
        finally:
            engine.dispose()


class Served:
    """The API app with the pages, under uvicorn on 127.0.0.1 (a port the OS picked), in a thread."""

    def __init__(self, engine, config, clock):
        import uvicorn

        from pipeline.api.app import create_app
        from pipeline.web.links import Keys
        from pipeline.web.pages import mount

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        app = create_app(engine, config.assignments, clock)
        self.pages = mount(app, config, Keys.from_secret(SECRET), public_url=self.base)
        self.log: list[str] = []
        sink = self.log

        class Capture(logging.Handler):
            def emit(self, record):
                sink.append(record.getMessage())

        self.capture = Capture()
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=True, server_header=False,
                                                    lifespan="off"))
        logging.getLogger("uvicorn.access").addHandler(self.capture)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)

    def close(self):
        self.server.should_exit = True
        self.thread.join(10)
        logging.getLogger("uvicorn.access").removeHandler(self.capture)
        self.sock.close()


def links_in(mail, base: str) -> list[tuple[str, str]]:
    body = mail.get_content()
    return re.findall(rf"({re.escape(base)}/a/(\w+)\?t=[\w.-]+)", body)


def test_leader_phone_flow_from_the_mailed_link_in_chromium(browser_tools, week_db, pg_url):
    from pipeline.configset import load_config
    from pipeline.notify.channels.email import EmailOptions
    from pipeline.notify.config import SmtpOptions
    from pipeline.notify.notifier import Notifier

    config = load_config()
    engine = week_db
    with engine.connect() as conn:
        target = conn.execute(sa.text("SELECT alert_id, assignee, level FROM alerts WHERE entity = :e"),
                              {"e": TARGET}).one()
        other = conn.execute(sa.text("SELECT alert_id FROM alerts WHERE entity = 'building:1'")).scalar_one()
    assert (target.assignee, target.level) == ("L01", "critical")
    page_clock = kit.FakeClock(WEEK_END + timedelta(minutes=10))
    served = Served(engine, config, page_clock)
    sink = peers.MailSink()
    try:
        with pgkit.server_lock():
            # the notifier mails L01 (its only channel here) with signed links to the page
            smtp = SmtpOptions(host="127.0.0.1", port=sink.port, sender="riskwatch@test.invalid")
            chans = kit.channels({"L01": [("email", EmailOptions(to_env="L01_MAIL"))]}, smtp=smtp)
            notifier_clock = kit.FakeClock(WEEK_END)
            notifier = Notifier(engine, config, chans, grafana_url="http://grafana.test", clock=notifier_clock,
                                sleep=notifier_clock.sleep, env={"L01_MAIL": "l01@test.invalid"},
                                alert_link=served.pages.signer.url)
            report = notifier.run_once(flush=True)
            assert report.sent >= 1, report
            found = [(url, aid) for mail in sink.messages for url, aid in links_in(mail, served.base)]
            link = next(url for url, aid in found if aid == target.alert_id)
            token = link.split("?t=", 1)[1]
            expired = served.pages.signer.issue(target.alert_id, "L01", now=page_clock.now - timedelta(hours=73))
            forged_token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
            with engine.connect() as conn:
                escalated_before = {h.id for h in history_of(conn, target.alert_id) if h.action == "escalated"}

            result = run_browser(browser_tools, "phone-flow", {
                "link": link, "note": "已安排物业和消防站核查", "progress": "消防站已到场，电池已移出室外",
                "reason": "隐患已消除，住户已签订不入户充电承诺",
                "expired": f"{served.base}/a/{target.alert_id}?t={expired}",
                "forged": f"{served.base}/a/{target.alert_id}?t={forged_token}",
                "screenshot": str(SCREENSHOT), "flowScreenshot": str(FLOW_SCREENSHOT),
            })

            # what the leader read, on a 360 px wide screen: the alert, its deadline and what comes next
            first = result["first"]
            assert first["status"] == 200 and first["innerWidth"] == 360
            assert first["scrollWidth"] <= 360 and first["bodyScrollWidth"] <= 360, first
            text = first["text"]
            for expected in ("1号楼12层1203室", "12 层", "重大", "确认收到", "已处置 / 关闭", "风险分值变化",
                             "烟感报警", "电动自行车入户充电", "产生预警", "1号楼包保领导（L01）", "确认期限",
                             "内未确认将上报街道主要负责人（L10）"):
                assert expected in text, expected
            assert first["buttons"] == ["ack", "addnote", "close"]
            headers = first["headers"]
            assert "default-src 'none'" in headers["content-security-policy"]
            assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
            assert all(u.startswith(served.base) for u in result["requests"]), result["requests"]
            # no CSP violation, no script error: only the refused links' status lines
            assert [m for m in result["console"]
                    if not re.fullmatch(r"Failed to load resource: .* status of (403|410) .*", m)] == []

            # the three taps, each a POST answered 200 on the same page, never asking for a token
            base_url = f"{served.base}/a/{target.alert_id}"
            for step, path, banner in (("ack", "/ack", "已确认收到。逐级上报已停止"),
                                       ("note", "/note", "处置进展已记录"), ("close", "/close", "预警已关闭")):
                assert (result[step]["status"], result[step]["postUrl"]) == (200, base_url + path), step
                assert banner in result[step]["text"] and result[step]["scrollWidth"] <= 360, step
                assert "个人令牌" not in result[step]["text"], step
            assert "消防站已到场，电池已移出室外" in result["note"]["text"]
            assert result["close"]["buttons"] == [] and result["again"]["buttons"] == []
            assert result["again"]["status"] == 200 and "已关闭" in result["again"]["text"]
            with engine.connect() as conn:
                status = conn.execute(sa.text("SELECT status FROM alerts WHERE alert_id = :a"),
                                      {"a": target.alert_id}).scalar_one()
                steps = [(h.action, h.actor, h.detail) for h in history_of(conn, target.alert_id)
                         if h.action in ("acknowledged", "closed")]
                notes = conn.execute(sa.text("SELECT actor, note_kind, text FROM case_actions WHERE ref = :r"),
                                     {"r": f"alert:{target.alert_id}"}).all()
                audit = conn.execute(sa.text("SELECT actor, action FROM audit_log WHERE action IN "
                                             "('acknowledge', 'case_note', 'alert_close') ORDER BY id")).all()
            assert status == "closed"
            assert steps == [("acknowledged", "link:L01", {"note": "已安排物业和消防站核查"}),
                             ("closed", "link:L01", {"actor": "link:L01", "reason": "隐患已消除，住户已签订不入户充电承诺"})]
            assert [tuple(n) for n in notes] == [("link:L01", "progress", "消防站已到场，电池已移出室外")]
            assert [tuple(a) for a in audit] == [("link:L01", "acknowledge"), ("link:L01", "case_note"),
                                                 ("link:L01", "alert_close")]

            # an expired link and a forged one: refused with a Chinese explanation
            assert result["expired"]["status"] == 410 and "链接已过期" in result["expired"]["text"]
            assert result["forged"]["status"] == 403 and "链接无效" in result["forged"]["text"]
            for key in ("again", "expired", "forged"):
                assert result[key]["scrollWidth"] <= 360, key

            # escalation past every ack_timeout: the handled alert stays put, the other one moves on
            notifier_clock.now = WEEK_END + timedelta(days=1)
            notifier.run_once(flush=True)
            notifier.close()
            with engine.connect() as conn:
                escalated_after = {h.id for h in history_of(conn, target.alert_id) if h.action == "escalated"}
                other_steps = [h.detail["step"] for h in history_of(conn, other) if h.action == "escalated"]
            assert escalated_after == escalated_before
            assert other_steps == [1, 2]

            # no link token in the server's access log
            assert any(f"/a/{target.alert_id}?t=…" in line for line in served.log), served.log
            assert not any(token in line or expired in line for line in served.log)
    finally:
        sink.close()
        served.close()
    assert SCREENSHOT.is_file() and SCREENSHOT.stat().st_size > 10_000
    assert FLOW_SCREENSHOT.is_file() and FLOW_SCREENSHOT.stat().st_size > 10_000


def test_leader_logs_in_with_a_personal_token_and_filters_the_list(browser_tools, week_db):
    from pipeline.auth import create_token
    from pipeline.configset import load_config

    config = load_config()
    token = create_token(week_db, "leader-L01", "leader", leader_id="L01")
    served = Served(week_db, config, kit.FakeClock(WEEK_END + timedelta(minutes=30)))
    try:
        result = run_browser(browser_tools, "list-page", {"base": served.base, "token": token})
    finally:
        served.close()
    assert result["before"]["url"].endswith("/login") and "登录预警列表" in result["before"]["text"]
    listed = result["list"]
    with week_db.connect() as conn:
        mine = conn.execute(sa.text("SELECT alert_id, level FROM alerts WHERE assignee = 'L01' "
                                    "AND status IN ('open', 'acknowledged') ORDER BY raised_at DESC")).all()
    rank = {"medium": 1, "high": 2, "critical": 3}
    expected = [f"/a/{a.alert_id}" for a in sorted(mine, key=lambda a: -rank[a.level])]
    assert listed["links"] == expected and expected                      # highest level first, then newest
    assert "待处理预警" in listed["text"] and "1号楼" in listed["text"] and "重大" in listed["text"]
    assert listed["scrollWidth"] <= 360
    critical = [f"/a/{a.alert_id}" for a in mine if a.level == "critical"]
    assert result["filtered"]["links"] == critical
    opened = result["opened"]
    assert opened["status"] == 200 and "已处置 / 关闭" in opened["text"] and opened["scrollWidth"] <= 360
    assert result["console"] == [] and not any(token in u for u in result["requests"])


def test_racing_taps_on_postgresql_act_once(week_db):
    """Two taps of one link at the same instant, and taps of two links of one alert: one acknowledges,
    the other finds it acknowledged already (409), and the alert has one acknowledgement."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from pipeline.api.app import create_app
    from pipeline.configset import load_config
    from pipeline.web.links import Keys
    from pipeline.web.pages import mount

    config = load_config()
    with week_db.connect() as conn:
        first, second = conn.execute(sa.text(
            "SELECT alert_id FROM alerts WHERE assignee = 'L02' AND status = 'open' ORDER BY raised_at LIMIT 2")).scalars()
    app = create_app(week_db, config.assignments, kit.FakeClock(WEEK_END + timedelta(hours=1)))
    pages = mount(app, config, Keys.from_secret(SECRET), public_url="http://testserver")

    def forms(alert_id: str, token: str) -> dict:
        html = TestClient(app).get(f"/a/{alert_id}?t={token}").text
        return {"t": token, "csrf": re.search(r'name="csrf" value="([^"]+)"', html).group(1)}

    def race(alert_id: str, bodies: list[dict]) -> list[int]:
        barrier, codes = threading.Barrier(len(bodies)), []

        def tap(body):
            client = TestClient(app)
            barrier.wait()
            codes.append(client.post(f"/a/{alert_id}/ack", data=body).status_code)

        threads = [threading.Thread(target=tap, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return sorted(codes)

    with pgkit.server_lock():
        same = forms(first, pages.signer.issue(first, "L02"))
        assert race(first, [same, same]) == [200, 409]
        a, b = (forms(second, pages.signer.issue(second, "L02")) for _ in range(2))
        assert race(second, [a, b]) == [200, 409]
        with week_db.connect() as conn:
            rows = conn.execute(sa.text("SELECT alert_id, count(*) FROM alert_history WHERE action = 'acknowledged' "
                                        "AND alert_id IN (:a, :b) GROUP BY alert_id"), {"a": first, "b": second}).all()
        assert sorted(n for _, n in rows) == [1, 1]
