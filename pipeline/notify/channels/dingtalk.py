"""DingTalk (钉钉) custom robot with 加签 (signed URL): markdown message.

Signing, as DingTalk documents it: timestamp = current time in milliseconds; string_to_sign =
f"{timestamp}\\n{secret}"; sign = base64(HMAC-SHA256(key=secret, msg=string_to_sign)), URL-encoded;
both go into the query (`&timestamp=...&sign=...`) of the robot URL (which carries access_token).
DingTalk refuses a timestamp more than an hour off its clock, so the wall clock is used, not the
notifier's (possibly simulated) clock, and a retry is signed anew.

    POST <url>&timestamp=..&sign=..  {"msgtype": "markdown", "markdown": {"title": .., "text": ..}}
    -> {"errcode": 0, "errmsg": "ok"}; 310000 = bad signature/keyword/IP; 130101 = sending too fast.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pipeline.notify.channels.base import Channel, Message, Options, refuse_oversize
from pipeline.notify.channels.http import post_json, robot_result

MAX_BYTES = 20000
RATE_LIMITED = frozenset({130101, 410100})


def sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query value before URL encoding (httpx encodes query values)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkOptions(Options):
    url_env: str
    secret_env: str


class DingTalk(Channel):
    type = "dingtalk"
    Options = DingTalkOptions
    env_keys = ("url_env", "secret_env")
    max_bytes = MAX_BYTES

    def send(self, message: Message) -> None:
        refuse_oversize(message, MAX_BYTES)
        url = self.secret("url_env")
        secret = self.secret("secret_env")
        timestamp = int(round(self.ctx.wall() * 1000))
        params = {"timestamp": str(timestamp), "sign": sign(secret, timestamp)}
        body = {"msgtype": "markdown",
                "markdown": {"title": message.title, "text": message.markdown}}
        robot_result(post_json(self.ctx, url, body, params=params, idempotent=False,
                               timeout=self.ctx.robot_timeout), url, RATE_LIMITED)
