"""Long grouped notices are split, never cut: robots on loopback (WeCom 4096 bytes, DingTalk 20,000) get as many
messages as needed, each under the limit; a notice is `sent` only when its whole text went out; notices name
the building and the place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from pipeline.alerting import actions
from pipeline.notify.channels.webhook import WebhookOptions
from pipeline.notify.channels.wecom import WeComOptions
from pipeline.notify.notices import Notice, Reason, Renderer
from pipeline.notify.split import size, split
from tests.pipeline.notify.alertkit import T0, FakeClock, channels, raise_alert
from tests.pipeline.notify.notify_peers import Step
from tests.pipeline.notify.test_notifier import make, rows

RENDERER = Renderer(grafana_url="http://grafana.test:3000", leader_names={"L01": "包保领导甲"},
                    alert_link=lambda alert_id, leader: f"http://riskwatch.test/a/{alert_id}?t=" + "x" * 120)


def notice(i: int, reasons: int = 3, reason_len: int = 10, kind: str = "raised", close_reason: str = "") -> Notice:
    at = datetime(2024, 11, 5, 1, 30, tzinfo=UTC) + timedelta(minutes=i)
    return Notice(kind, f"a{i:03d}", f"location:HD-1-{i % 30 + 1:02d}01", "high", 70.0 + i, at, "L01",
                  tuple(Reason("入户充电" * reason_len + f"{j}", 10.0, at) for j in range(reasons)),
                  {"reason": close_reason, "actor": "analyst-1"} if kind == "closed" else {})


def render(mid, notices):
    return RENDERER.message(mid, "L01", notices)


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 40)), min_size=1, max_size=40),
       st.sampled_from([4096, 20000]), st.integers(0, 6000))
def test_every_message_fits_and_every_notice_goes_out_whole_in_order(shape, limit, close_len):
    notices = [notice(i, r, n) for i, (r, n) in enumerate(shape)]
    notices[-1] = notice(len(shape) - 1, kind="closed", close_reason="误报" * close_len)
    items = list(enumerate(notices))
    parts = split(render, "m-1", items, limit)
    assert [r for p in parts for r in p.rows] == list(range(len(notices)))       # each notice in one part, in order
    for p in parts:
        assert all(size(m) <= limit for m in p.messages)
        if len(p.messages) == 1:
            sent = p.messages[0].markdown
            for n in (notices[r] for r in p.rows):
                assert all(line in sent for line in RENDERER.facts(n) + RENDERER.reasons(n))
        else:                                                   # one notice alone over the limit
            assert len(p.rows) == 1
            whole = render(p.id, [notices[p.rows[0]]]).markdown
            assert "".join(_body(m.markdown) for m in p.messages).replace("\n", "") == whole.replace("\n", "")
    if size(render("m-1", notices)) <= limit:
        assert len(parts) == 1 and parts[0].id == "m-1"


def _body(markdown: str) -> str:
    """A piece without the part header or trailer the splitter adds."""
    if markdown.startswith("（续 "):
        markdown = markdown.split("\n\n", 1)[1]
    if markdown.endswith("，下接续条）"):
        markdown = markdown.rsplit("\n\n", 1)[0]
    return markdown


def test_the_acknowledge_link_comes_before_the_reasons():
    md = render("m", [notice(1, reasons=3)]).markdown
    assert md.index("确认收到 / 处置") < md.index("主要原因")


def wecom(receiver, leader="L01"):
    return ("wecom", WeComOptions(url_env=f"WECOM_{leader}"))


def _notices_in(requests) -> list[str]:
    return [line for r in requests for line in r.body["markdown"]["content"].split("\n") if line.startswith("> 对象：")]


def test_nine_alerts_to_one_wecom_robot_arrive_whole(engine, config, receiver):
    for i in range(9):
        raise_alert(engine, f"a{i}", f"location:HD-1-{i + 2:02d}01", "L01", T0 + timedelta(seconds=i), points=70 + i)
    clock = FakeClock(T0 + timedelta(minutes=1))
    env = {"WECOM_L01": receiver.url + "/cgi-bin/webhook/send?key=k"}
    n = make(engine, config, channels({"L01": [wecom(receiver)]}), clock, env=env,
             alert_link=lambda a, leader: f"http://riskwatch.test/alerts/{a}?token=" + "t" * 600)
    report = n.run_once(flush=True)
    assert (report.sent, report.failed) == (9, 0)
    assert len(receiver.requests) > 1
    assert all(len(r.body["markdown"]["content"].encode()) <= 4096 for r in receiver.requests)
    assert len(_notices_in(receiver.requests)) == 9 and len(set(_notices_in(receiver.requests))) == 9
    assert not any("截断" in r.body["markdown"]["content"] for r in receiver.requests)
    assert {s for (s,) in rows(engine, "SELECT status FROM notifications")} == {"sent"}
    n.close()


def test_a_part_that_failed_is_not_recorded_sent_and_goes_out_later(engine, config, receiver):
    for i in range(9):
        raise_alert(engine, f"a{i}", f"location:HD-1-{i + 2:02d}01", "L01", T0 + timedelta(seconds=i))
    clock = FakeClock(T0 + timedelta(minutes=1))
    env = {"WECOM_L01": receiver.url + "/w?key=k"}
    long_link = lambda a, leader: f"http://riskwatch.test/alerts/{a}?token=" + "t" * 600  # noqa: E731
    receiver.script = [Step(), *[Step(body={"errcode": 93000, "errmsg": "invalid"})] * 20]
    n = make(engine, config, channels({"L01": [wecom(receiver)]}), clock, env=env, alert_link=long_link)
    report = n.run_once(flush=True)
    first = _notices_in(receiver.requests[:1])
    assert report.sent == len(first) and report.failed == 9 - len(first) > 0
    sent = rows(engine, "SELECT alert_id FROM notifications WHERE status = 'sent' ORDER BY alert_id")
    assert len(sent) == len(first)   # only the notices whose text went out


def test_a_single_notice_over_the_limit_goes_out_in_numbered_parts(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    reason = "误报，" + "烟感设备故障已更换" * 54
    actions.close(engine, "a1", "analyst-1", reason, T0 + timedelta(seconds=5))
    link = "http://riskwatch.test/alerts/a1?token=" + "t" * 2500
    clock = FakeClock(T0 + timedelta(minutes=1))
    env = {"WECOM_L01": receiver.url + "/w?key=k"}
    n = make(engine, config, channels({"L01": [wecom(receiver)]}), clock, env=env, alert_link=lambda a, leader: link)
    report = n.run_once(flush=True)
    assert report.sent == 2 and report.failed == 0
    texts = [r.body["markdown"]["content"] for r in receiver.requests]
    assert len(texts) >= 3 and all(len(t.encode()) <= 4096 for t in texts)
    assert sum(reason in t for t in texts) == 1            # cut between lines: the reason whole in one piece
    assert sum(t.count(link) for t in texts) == 2          # the link to act, once per notice
    assert any(t.startswith("（续 ") for t in texts)
    n.close()


def test_a_person_notice_names_the_building_and_the_place(engine, config, receiver):
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO events (event_id, kind, type, occurred_at, source, building, location_id, doc) VALUES "
            "('ev-p1-raised', 'dispute', 'escalated', :at, 'mediation', '2', 'HD-2-1203', '{}')"),
            {"at": T0.astimezone(UTC).replace(tzinfo=None)})
    raise_alert(engine, "p1", "person:P-0101", "L01", T0, building="2")
    clock = FakeClock(T0 + timedelta(minutes=1))
    n = make(engine, config, channels({"L01": [("webhook", WebhookOptions(url=receiver.url))]}), clock)
    assert n.run_once(flush=True).sent == 1
    text = receiver.requests[0].body["text"]
    assert "对象：重点人员 P-0101" in text and "地点：2号楼12层1203室" in text


def test_thirty_two_alerts_to_a_signed_dingtalk_robot_arrive_whole(engine, config):
    from pipeline.notify.channels.dingtalk import DingTalkOptions
    from tests.pipeline.notify.notify_peers import Receiver

    robot = Receiver(dingtalk_secret="SEC-test")
    try:
        for i in range(32):
            raise_alert(engine, f"a{i}", f"location:HD-2-{i % 30 + 2:02d}01", "L01", T0 + timedelta(seconds=i))
        env = {"DT_URL": robot.url + "/robot/send?access_token=t", "DT_SECRET": "SEC-test"}
        chans = channels({"L01": [("dingtalk", DingTalkOptions(url_env="DT_URL", secret_env="DT_SECRET"))]})
        n = make(engine, config, chans, FakeClock(T0 + timedelta(minutes=1)), env=env,
                 alert_link=lambda a, leader: f"http://riskwatch.test/alerts/{a}?token=" + "t" * 300)
        report = n.run_once(flush=True)
        assert (report.sent, report.failed) == (32, 0)
        texts = [r.body["markdown"]["text"] for r in robot.requests]
        assert len(texts) > 1 and all(len(t.encode()) <= 20000 for t in texts)
        assert sum(t.count("> 对象：") for t in texts) == 32
        n.close()
    finally:
        robot.close()


def test_a_notice_whose_alert_was_purged_is_recorded_failed_not_sent(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    raise_alert(engine, "a2", "location:HD-1-0301", "L01", T0)
    clock = FakeClock(T0 + timedelta(minutes=1))
    n = make(engine, config, channels({"L01": [("webhook", WebhookOptions(url=receiver.url))]}, group_wait=30), clock)
    n.run_once()                                       # planned; waiting for the group window
    with engine.begin() as conn:                       # a2's change is purged meanwhile
        conn.execute(sa.text("DELETE FROM alert_history WHERE alert_id = 'a2' AND action = 'raised'"))
    clock.advance(seconds=60)
    report = n.run_once()
    assert (report.sent, report.failed) == (1, 1)
    assert dict(rows(engine, "SELECT alert_id, status FROM notifications")) == {"a1": "sent", "a2": "failed"}
    n.close()
