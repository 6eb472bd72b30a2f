"""Channels, registered in ONE explicit table (as Alertmanager registers its notifiers).

To add a channel: write a module with a `Channel` subclass (its `type`, `Options`, `send`) and add
one line here. channels.yaml entries are checked against this table.
"""

from __future__ import annotations

from pipeline.notify.channels.base import Channel
from pipeline.notify.channels.dingtalk import DingTalk
from pipeline.notify.channels.email import Email
from pipeline.notify.channels.webhook import Webhook
from pipeline.notify.channels.wecom import WeCom

CHANNELS: dict[str, type[Channel]] = {
    Webhook.type: Webhook,
    WeCom.type: WeCom,
    DingTalk.type: DingTalk,
    Email.type: Email,
}
