"""Generic webhook: the message as versioned JSON (`schema_version` 1), for the office's own systems.

    {"schema_version": 1, "message_id": "...", "leader": "L01", "title": "...", "text": "...",
     "notices": [{"kind": "raised", "alert_id": "...", "entity": "location:HD-1-1203", "level": "high",
                  "level_zh": "高", "score": 72.5, "at": "2024-11-05T01:30:00Z", "contributions": [...],
                  "link": "..."}]}

The message id is also the `Idempotency-Key` header: a retry after a timeout carries the same key,
so a receiver that drops repeats sees each message exactly once.
"""

from __future__ import annotations

from pydantic import model_validator

from pipeline.notify.channels.base import Channel, Message, Options
from pipeline.notify.channels.http import post_json

SCHEMA_VERSION = 1


class WebhookOptions(Options):
    url: str | None = None          # a plain URL (no secret in it) ...
    url_env: str | None = None      # ... or the environment variable holding it
    token_env: str | None = None    # optional: environment variable with a bearer token

    @model_validator(mode="after")
    def _one_url(self):
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url, url_env")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return self


class Webhook(Channel):
    type = "webhook"
    Options = WebhookOptions
    env_keys = ("url_env", "token_env")

    def send(self, message: Message) -> None:
        url = self.options.url or self.secret("url_env")
        headers = {"Idempotency-Key": message.id}
        if self.options.token_env:
            headers["Authorization"] = f"Bearer {self.secret('token_env')}"
        payload = {
            "schema_version": SCHEMA_VERSION,
            "message_id": message.id,
            "leader": message.leader_id,
            "title": message.title,
            "text": message.text,
            "notices": list(message.notices),
        }
        post_json(self.ctx, url, payload, headers=headers)
