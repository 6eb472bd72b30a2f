"""Each channel against a real peer on loopback: payload formats, DingTalk's signature verified the
way DingTalk does, SMTP with Chinese subject and body, and the failure classification."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.header import decode_header

import httpx
import pytest

from pipeline.notify.channels import CHANNELS
from pipeline.notify.channels.base import Context, Message, Permanent, Transient
from pipeline.notify.channels.dingtalk import DingTalk, DingTalkOptions, sign
from pipeline.notify.channels.email import Email, EmailOptions
from pipeline.notify.channels.webhook import Webhook, WebhookOptions
from pipeline.notify.channels.wecom import WeCom, WeComOptions
from pipeline.notify.config import SmtpOptions
from tests.pipeline.notify.notify_peers import MailSink, Receiver, Step, free_port

TITLE = "【风险预警·高】新预警：地点 HD-1-1203"
TEXT = "包保领导：1号楼包保领导（L01）\n对象：地点 HD-1-1203\n等级：高　评分：72.5\n"
MESSAGE = Message("m-0001", "L01", TITLE, TEXT, "### 新预警\n> 等级：**高**", ({"kind": "raised", "alert_id": "a1"},))


@pytest.fixture
def http():
    with httpx.Client() as client:
        yield client


def ctx(http, env=None, timeout=2.0, smtp=None) -> Context:
    return Context(http, env or {}, smtp, timeout)


def test_the_registry_lists_every_channel_once():
    assert CHANNELS == {"webhook": Webhook, "wecom": WeCom, "dingtalk": DingTalk, "email": Email}


def test_webhook_posts_versioned_json_with_idempotency_key_and_bearer(http, receiver):
    env = {"HOOK_TOKEN": "s3cret"}
    Webhook(WebhookOptions(url=receiver.url + "/hook", token_env="HOOK_TOKEN"), ctx(http, env)).send(MESSAGE)
    [req] = receiver.requests
    assert req.path == "/hook"
    assert req.headers["idempotency-key"] == "m-0001"
    assert req.headers["authorization"] == "Bearer s3cret"
    assert req.body["schema_version"] == 1
    assert req.body["message_id"] == "m-0001" and req.body["leader"] == "L01"
    assert req.body["title"] == TITLE and req.body["notices"] == [{"kind": "raised", "alert_id": "a1"}]


def test_wecom_sends_markdown_to_the_url_from_the_environment(http, receiver):
    env = {"WECOM": receiver.url + "/cgi-bin/webhook/send?key=abc"}
    WeCom(WeComOptions(url_env="WECOM"), ctx(http, env)).send(MESSAGE)
    [req] = receiver.requests
    assert req.path == "/cgi-bin/webhook/send" and req.query == {"key": "abc"}
    assert req.body == {"msgtype": "markdown", "markdown": {"content": MESSAGE.markdown}}


@pytest.mark.parametrize("robot", ["wecom", "dingtalk"])
def test_a_robot_never_cuts_a_message_over_its_limit(http, receiver, robot):
    # the notifier splits long groups (tests/pipeline/notify/test_split.py); a robot refuses, never truncates
    env = {"URL": receiver.url + "/r", "SECRET": "s"}
    chan = (WeCom(WeComOptions(url_env="URL"), ctx(http, env)) if robot == "wecom"
            else DingTalk(DingTalkOptions(url_env="URL", secret_env="SECRET"), ctx(http, env)))
    limit = chan.max_bytes
    assert limit == {"wecom": 4096, "dingtalk": 20000}[robot]
    with pytest.raises(Permanent, match="not cut"):
        chan.send(Message("m-2", "L01", TITLE, TEXT, "风" * (limit // 3 + 1)))
    assert receiver.requests == []
    chan.send(Message("m-3", "L01", TITLE, TEXT, "风" * (limit // 3)))
    [req] = receiver.requests
    sent = req.body["markdown"].get("content") or req.body["markdown"]["text"]
    assert sent == "风" * (limit // 3)


def test_wecom_errcode_is_a_refusal_and_rate_limit_is_transient(http, receiver):
    chan = WeCom(WeComOptions(url_env="WECOM"), ctx(http, {"WECOM": receiver.url + "/w?key=k"}))
    receiver.script = [Step(body={"errcode": 93000, "errmsg": "invalid webhook url"}),
                       Step(body={"errcode": 45009, "errmsg": "api freq out of limit"})]
    with pytest.raises(Permanent, match="93000"):
        chan.send(MESSAGE)
    with pytest.raises(Transient, match="45009"):
        chan.send(MESSAGE)


def test_dingtalk_request_passes_dingtalks_signature_check():
    secret = "SECtest0123456789abcdef"
    peer = Receiver(dingtalk_secret=secret)
    try:
        with httpx.Client() as http:
            env = {"DT_URL": peer.url + "/robot/send?access_token=tok", "DT_SECRET": secret}
            DingTalk(DingTalkOptions(url_env="DT_URL", secret_env="DT_SECRET"), ctx(http, env)).send(MESSAGE)
        [req] = peer.effective
        assert req.query["access_token"] == "tok"
        assert req.body == {"msgtype": "markdown", "markdown": {"title": TITLE, "text": MESSAGE.markdown}}
    finally:
        peer.close()


def test_dingtalk_with_the_wrong_secret_is_refused_permanently():
    peer = Receiver(dingtalk_secret="SECright")
    try:
        with httpx.Client() as http:
            env = {"DT_URL": peer.url + "/robot/send?access_token=tok", "DT_SECRET": "SECwrong"}
            with pytest.raises(Permanent, match="310000"):
                DingTalk(DingTalkOptions(url_env="DT_URL", secret_env="DT_SECRET"), ctx(http, env)).send(MESSAGE)
        assert peer.effective == [] and len(peer.requests) == 1
    finally:
        peer.close()


def test_dingtalk_sign_matches_the_documented_algorithm_including_url_encoding():
    secret, ts = "this is secret", 1700000000000
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert sign(secret, ts) == base64.b64encode(digest).decode()
    # characters base64 may produce (+ / =) must arrive intact through the query string
    url = httpx.URL("http://127.0.0.1/x?access_token=t").copy_merge_params({"timestamp": str(ts), "sign": "a+b/c="})
    assert url.params["sign"] == "a+b/c=" and url.params["access_token"] == "t"
    assert "a%2Bb%2Fc%3D" in str(url)


def test_http_failures_are_classified(http, receiver):
    chan = Webhook(WebhookOptions(url=receiver.url + "/h"), ctx(http, timeout=0.5))
    receiver.script = [Step(500), Step(429, {"Retry-After": "7"}), Step(404), Step(200, delay=1.0)]
    with pytest.raises(Transient, match="HTTP 500"):
        chan.send(MESSAGE)
    with pytest.raises(Transient) as exc:
        chan.send(MESSAGE)
    assert exc.value.retry_after == 7.0
    with pytest.raises(Permanent, match="HTTP 404"):
        chan.send(MESSAGE)
    with pytest.raises(Transient, match="timeout"):
        chan.send(MESSAGE)


def test_receiver_down_is_transient_and_the_error_hides_the_query(http):
    port = free_port()
    chan = WeCom(WeComOptions(url_env="W"), ctx(http, {"W": f"http://127.0.0.1:{port}/send?key=SECRETKEY"}))
    with pytest.raises(Transient) as exc:
        chan.send(MESSAGE)
    assert "SECRETKEY" not in str(exc.value) and f"127.0.0.1:{port}/send" in str(exc.value)


def smtp_options(port: int) -> SmtpOptions:
    return SmtpOptions(host="127.0.0.1", port=port, sender="riskwatch@test.invalid")


def test_email_arrives_with_chinese_subject_and_body_correctly_encoded(http, mail_sink):
    chan = Email(EmailOptions(to_env="TO"), ctx(http, {"TO": "l01@test.invalid, duty@test.invalid"},
                                                smtp=smtp_options(mail_sink.port)))
    chan.send(MESSAGE)
    [mail] = mail_sink.messages
    assert mail["Subject"] == TITLE
    assert mail.get_content().replace("\r\n", "\n") == TEXT  # SMTP carries CRLF line ends
    assert mail["To"] == "l01@test.invalid, duty@test.invalid"
    assert mail["Message-ID"] == "<m-0001@riskwatch>"
    assert mail.get_content_charset() == "utf-8"
    # on the wire: RFC 2047 encoded-words for the subject, no raw non-ASCII in any header
    raw = mail_sink.raw[0]
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    assert head.isascii()
    subject_line = [ln for ln in head.decode().splitlines() if ln.startswith("Subject:")][0]
    assert "=?utf-8?" in subject_line.lower()
    decoded = "".join(part.decode(cs) if isinstance(part, bytes) else part
                      for part, cs in decode_header(mail_sink.messages[0].get("Subject", failobj="")))
    assert decoded == TITLE


def test_email_refused_recipient_is_permanent_and_server_down_transient(http):
    sink = MailSink(refuse_rcpt="550 5.1.1 no such user")
    try:
        chan = Email(EmailOptions(to=["x@test.invalid"]), ctx(http, smtp=smtp_options(sink.port)))
        with pytest.raises(Permanent, match="550"):
            chan.send(MESSAGE)
        assert sink.messages == []
    finally:
        sink.close()
    down = Email(EmailOptions(to=["x@test.invalid"]), ctx(http, smtp=smtp_options(free_port())))
    with pytest.raises(Transient):
        down.send(MESSAGE)
