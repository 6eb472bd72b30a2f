"""The notifier on SQLite with real peers on loopback: notices in Chinese, grouping, retries,
nothing sent twice (also across a restart), nothing lost while a channel is down, escalation
timing and resolution with a controllable clock."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from pipeline.alerting import actions
from pipeline.alerting.records import get_alert, history_of
from pipeline.notify.channels.email import EmailOptions
from pipeline.notify.channels.webhook import WebhookOptions
from pipeline.notify.config import SmtpOptions
from pipeline.notify.delivery import RetryPolicy
from pipeline.notify.notifier import Notifier
from tests.pipeline.notify.alertkit import T0, FakeClock, channels, raise_alert
from tests.pipeline.notify.notify_peers import Receiver, Step, free_port

FAST = RetryPolicy(attempts_per_pass=3, base=0.01, max_wait_in_pass=1.0, max_backoff=60.0, give_up_after=3600.0)


def hook(url: str) -> tuple[str, WebhookOptions]:
    return ("webhook", WebhookOptions(url=url))


def make(engine, config, chans, clock, **kw) -> Notifier:
    return Notifier(engine, config, chans, grafana_url="http://grafana.test:3000", clock=clock, sleep=clock.sleep,
                    policy=kw.pop("policy", FAST), env=kw.pop("env", {}), **kw)


def rows(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).all()


def test_raised_alert_reaches_the_assignee_once_in_chinese_with_drilldown(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0, points=72.5, rule="ebike-charging-then-smoke")
    clock = FakeClock(T0 + timedelta(minutes=1))
    n = make(engine, config, channels({"L01": [hook(receiver.url + "/l01")]}), clock)
    report = n.run_once(flush=True)
    assert (report.planned, report.sent, report.failed) == (1, 1, 0)
    [req] = receiver.requests
    body = req.body
    assert body["title"] == "【风险预警·较大】新预警：1号楼12层1203室"
    [notice] = body["notices"]
    assert notice["kind"] == "raised" and notice["level_zh"] == "较大" and notice["score"] == 72.5
    assert notice["contributions"][0]["title"] == "入户充电后出现烟感报警"
    assert notice["links"][0]["url"] == "http://grafana.test:3000/d/riskwatch-entity?var-entity=location%3AHD-1-1203"
    assert "1号楼包保领导（L01）" in body["text"] and "2024年11月5日 09:30（北京时间）" in body["text"]
    # again, and after a restart (a new notifier on the same database): nothing is sent twice
    assert n.run_once(flush=True).sent == 0
    n.close()
    again = make(engine, config, channels({"L01": [hook(receiver.url + "/l01")]}), clock)
    assert again.run_once(flush=True).sent == 0
    assert len(receiver.requests) == 1
    with engine.connect() as conn:
        notified = [h for h in history_of(conn, "a1") if h.action == "notified"]
    assert [d["outcome"] for d in notified[0].detail["deliveries"]] == ["sent"]


def test_notices_to_one_leader_within_the_window_make_one_message(engine, config, receiver):
    clock = FakeClock(T0)
    n = make(engine, config, channels({"L01": [hook(receiver.url)]}, group_wait=30), clock)
    raise_alert(engine, "a1", "location:HD-1-0301", "L01", T0)
    n.run_once()                      # plans the first notice; it waits for the window
    clock.advance(seconds=10)
    raise_alert(engine, "a2", "location:HD-1-0702", "L01", T0 + timedelta(seconds=10))
    raise_alert(engine, "a2", "location:HD-1-0702", "L01", T0 + timedelta(seconds=12), level="critical",
                points=95, change="upgraded")
    assert n.run_once().sent == 0     # 10 s after the first: still within 30 s
    assert receiver.requests == []
    clock.advance(seconds=25)
    assert n.run_once().sent == 3
    [req] = receiver.requests
    assert [x["kind"] for x in req.body["notices"]] == ["raised", "raised", "upgraded"]
    assert req.body["title"] == "【风险预警】3 条通知（新预警 2、等级上调 1）"


def test_500_then_200_is_delivered_exactly_once(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    receiver.script = [Step(500), Step(200)]
    report = make(engine, config, channels({"L01": [hook(receiver.url)]}), clock).run_once(flush=True)
    assert report.sent == 1
    assert len(receiver.requests) == 2 and len(receiver.effective) == 1
    assert receiver.requests[0].headers["idempotency-key"] == receiver.requests[1].headers["idempotency-key"]
    assert clock.slept == [0.01]
    [(status, attempts)] = rows(engine, "SELECT status, attempts FROM notifications")
    assert (status, attempts) == ("sent", 2)


def test_slow_receiver_times_out_and_the_retry_counts_once(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    receiver.script = [Step(200, delay=1.0)]          # answers after the client gave up
    report = make(engine, config, channels({"L01": [hook(receiver.url)]}, timeout=0.3), clock).run_once(flush=True)
    assert report.sent == 1
    assert len(receiver.requests) == 2                # the timed-out try and the retry ...
    assert len(receiver.effective) == 1               # ... one message in effect (same idempotency key)


def test_429_retry_after_is_honoured(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    receiver.script = [Step(429, {"Retry-After": "1"})]
    assert make(engine, config, channels({"L01": [hook(receiver.url)]}), clock).run_once(flush=True).sent == 1
    assert clock.slept == [1.0]


def test_receiver_down_keeps_the_alert_open_records_and_retries_until_it_is_back(engine, config):
    port = free_port()
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    chans = channels({"L01": [hook(f"http://127.0.0.1:{port}/hook")]})
    n = make(engine, config, chans, clock)
    report = n.run_once(flush=True)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    [(status, attempts, error, message_id)] = rows(engine, "SELECT status, attempts, last_error, message_id FROM notifications")
    assert status == "pending" and attempts == 3 and "cannot reach http://127.0.0.1" in error
    with engine.connect() as conn:
        assert get_alert(conn, "a1").status == "open"
    # the next pass before the backoff has passed does not try
    assert n.run_once(flush=True).retrying == 0
    # the receiver comes up on that port; a later pass delivers the same message
    peer = _receiver_on(port)
    try:
        clock.advance(minutes=5)
        assert n.run_once(flush=True).sent == 1
        assert len(peer.effective) == 1
        assert peer.effective[0].headers["idempotency-key"] == message_id
    finally:
        peer.close()


def _receiver_on(port: int) -> Receiver:
    """A Receiver bound to a given port (the one the channel was configured with)."""
    import threading
    from http.server import ThreadingHTTPServer

    r = Receiver()
    handler = r.server.RequestHandlerClass
    r.close()
    r.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    r.server.daemon_threads = True
    r.thread = threading.Thread(target=r.server.serve_forever, args=(0.05,), daemon=True)
    r.thread.start()
    return r


def test_permanent_failure_and_leader_without_channel_are_recorded_on_the_alert(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    raise_alert(engine, "a2", "location:HD-2-0301", "L02", T0, building="2")
    receiver.script = [Step(404)]
    clock = FakeClock(T0)
    report = make(engine, config, channels({"L01": [hook(receiver.url)]}), clock).run_once(flush=True)
    assert report.failed == 2 and report.sent == 0   # the 404, and L02's notice that has no channel
    with engine.connect() as conn:
        h1 = [h for h in history_of(conn, "a1") if h.action == "notified"]
        h2 = [h for h in history_of(conn, "a2") if h.action == "notified"]
        assert get_alert(conn, "a1").status == "open"
    assert h1[0].detail["deliveries"][0]["outcome"] == "failed" and "HTTP 404" in h1[0].detail["deliveries"][0]["error"]
    assert h2[0].detail["deliveries"] == [{"leader": "L02", "channel": "(none)", "notice": "raised",
                                            "outcome": "failed", "error": "no channel configured"}]
    assert len(receiver.requests) == 1   # a permanent failure is not retried


def test_giving_up_after_the_deadline_is_recorded(engine, config):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    n = make(engine, config, channels({"L01": [hook(f"http://127.0.0.1:{free_port()}/")]}), clock,
             policy=RetryPolicy(attempts_per_pass=1, base=10, max_backoff=600, give_up_after=1800))
    n.run_once(flush=True)
    for _ in range(4):
        clock.advance(minutes=10)
        n.run_once(flush=True)
    [(status,)] = rows(engine, "SELECT status FROM notifications")
    assert status == "failed"
    with engine.connect() as conn:
        [h] = [h for h in history_of(conn, "a1") if h.action == "notified"]
    assert h.detail["deliveries"][0]["outcome"] == "failed"


def test_escalation_follows_the_chain_after_ack_timeout_and_stops_on_ack(engine, config, receiver):
    # L01's chain is [L05, L10]; a high alert's ack_timeout is 4h (config/assignments.yaml)
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    chans = channels({lid: [hook(f"{receiver.url}/{lid}")] for lid in ("L01", "L05", "L10")})
    n = make(engine, config, chans, clock)
    n.run_once(flush=True)
    clock.now = T0 + timedelta(hours=4) - timedelta(seconds=1)
    assert n.run_once(flush=True).escalated == 0
    clock.now = T0 + timedelta(hours=4)
    report = n.run_once(flush=True)
    assert report.escalated == 1
    assert [r.path for r in receiver.requests] == ["/L01", "/L05"]
    esc = receiver.requests[-1].body
    assert esc["notices"][0]["kind"] == "escalated" and esc["notices"][0]["detail"] == {"to": "L05", "step": 1}
    assert "已上报至：分管副主任（L05）（第 1 级）" in esc["text"]
    clock.advance(hours=3, minutes=59)
    assert n.run_once(flush=True).escalated == 0
    clock.advance(minutes=1)
    assert n.run_once(flush=True).escalated == 1       # 4h after the first escalation: L10
    assert receiver.requests[-1].path == "/L10"
    clock.advance(hours=24)
    assert n.run_once(flush=True).escalated == 0       # end of the chain
    with engine.connect() as conn:
        steps = [(h.detail["to"], h.at - T0) for h in history_of(conn, "a1") if h.action == "escalated"]
    assert steps == [("L05", timedelta(hours=4)), ("L10", timedelta(hours=8))]


def test_acknowledged_alert_does_not_escalate_and_resolves_when_the_score_falls(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0, points=70.0)
    clock = FakeClock(T0)
    chans = channels({lid: [hook(f"{receiver.url}/{lid}")] for lid in ("L01", "L05", "L10")})
    n = make(engine, config, chans, clock)
    n.run_once(flush=True)
    actions.acknowledge(engine, "a1", "leader-L01", "收到，已安排处置", now=T0 + timedelta(hours=1))
    clock.now = T0 + timedelta(hours=5)
    report = n.run_once(flush=True)
    assert (report.escalated, report.resolved) == (0, 0)     # 70 points decay to 69.3: still high
    # 70 * 0.5^(d/14d) < 60 after ~3.1 days
    clock.now = T0 + timedelta(days=3)
    assert n.run_once(flush=True).resolved == 0
    clock.now = T0 + timedelta(days=3, hours=12)
    report = n.run_once(flush=True)
    assert report.resolved == 1
    with engine.connect() as conn:
        alert = get_alert(conn, "a1")
        actions_seen = [h.action for h in history_of(conn, "a1") if h.action != "notified"]
    assert alert.status == "resolved"
    assert actions_seen == ["raised", "acknowledged", "resolved"]
    last = receiver.requests[-1].body
    assert last["notices"][0]["kind"] == "resolved" and last["title"].startswith("【风险预警·较大】预警已解除")
    assert receiver.requests[-1].path == "/L01"


def test_closed_by_hand_notifies_everyone_it_reached(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    chans = channels({lid: [hook(f"{receiver.url}/{lid}")] for lid in ("L01", "L05", "L10")})
    n = make(engine, config, chans, clock)
    n.run_once(flush=True)
    clock.now = T0 + timedelta(hours=4)
    n.run_once(flush=True)                                      # escalated to L05
    actions.close(engine, "a1", "admin-1", "误报：烟感设备故障", now=clock.now + timedelta(minutes=5))
    clock.advance(minutes=6)
    n.run_once(flush=True)
    closed = [r for r in receiver.requests if r.body["notices"][0]["kind"] == "closed"]
    assert sorted(r.path for r in closed) == ["/L01", "/L05"]
    assert "关闭原因：误报：烟感设备故障" in closed[0].body["text"]


def test_old_changes_are_not_notified_and_an_old_alert_escalates_without_paging(engine, config, receiver):
    """Replaying old data into a database a notifier watches pages nobody: the escalation of an
    8-day-old open alert is recorded at the time it fell due (the alert's time basis), which is older
    than max_age, so neither the raise nor the escalation is sent."""
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0 + timedelta(days=8))
    chans = channels({"L01": [hook(receiver.url + "/L01")], "L05": [hook(receiver.url + "/L05")]})
    report = make(engine, config, chans, clock, max_age=timedelta(days=7)).run_once(flush=True)
    assert (report.escalated, report.planned, report.sent) == (1, 0, 0)
    assert receiver.requests == []
    with engine.connect() as conn:
        [esc] = [h for h in history_of(conn, "a1") if h.action == "escalated"]
    timeout = config.assignments.ack_timeout["high"]
    assert esc.at == T0 + timedelta(seconds=timeout)          # when it fell due, not when it was noticed
    assert esc.detail["score"] > 60                            # the score then, not decayed to 0 by now


def test_a_recent_escalation_still_pages(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    timeout = config.assignments.ack_timeout["high"]
    clock = FakeClock(T0 + timedelta(seconds=timeout + 120))
    chans = channels({"L01": [hook(receiver.url + "/L01")], "L05": [hook(receiver.url + "/L05")]})
    report = make(engine, config, chans, clock, max_age=timedelta(days=7)).run_once(flush=True)
    assert report.escalated == 1
    to_l05 = [n["kind"] for r in receiver.requests if r.path == "/L05" for n in r.body["notices"]]
    assert "escalated" in to_l05


def test_email_notice_through_smtp(engine, config, mail_sink):
    raise_alert(engine, "a1", "person:P-0101", "L04", T0, rule="threat-of-violence", building=None)
    clock = FakeClock(T0)
    smtp = SmtpOptions(host="127.0.0.1", port=mail_sink.port, sender="riskwatch@test.invalid")
    chans = channels({"L04": [("email", EmailOptions(to_env="L04_MAIL"))]}, smtp=smtp)
    n = make(engine, config, chans, clock, env={"L04_MAIL": "l04@test.invalid"})
    assert n.run_once(flush=True).sent == 1
    [mail] = mail_sink.messages
    assert mail["Subject"] == "【风险预警·较大】新预警：重点人员 P-0101"
    body = mail.get_content()
    assert "矛盾纠纷调解专班负责人（L04）" in body and "重点人员 P-0101" in body
    assert "person:P-0101" not in body.split("查看风险详情")[0]
