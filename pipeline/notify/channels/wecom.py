"""WeCom (企业微信) group robot: markdown message to the robot's webhook URL (its `key` is the secret,
so the URL comes from the environment).

    POST <url>  {"msgtype": "markdown", "markdown": {"content": "..."}}   -> {"errcode": 0, "errmsg": "ok"}

Markdown content is limited to 4096 bytes; errcode 45009 is the robot's rate limit (20 per minute).
"""

from __future__ import annotations

from pipeline.notify.channels.base import Channel, Message, Options, refuse_oversize
from pipeline.notify.channels.http import post_json, robot_result

MAX_BYTES = 4096
RATE_LIMITED = frozenset({45009})


class WeComOptions(Options):
    url_env: str


class WeCom(Channel):
    type = "wecom"
    Options = WeComOptions
    env_keys = ("url_env",)
    max_bytes = MAX_BYTES

    def send(self, message: Message) -> None:
        refuse_oversize(message, MAX_BYTES)
        url = self.secret("url_env")
        body = {"msgtype": "markdown", "markdown": {"content": message.markdown}}
        robot_result(post_json(self.ctx, url, body, idempotent=False, timeout=self.ctx.robot_timeout), url,
                     RATE_LIMITED)
