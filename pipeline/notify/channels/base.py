"""The one small interface every channel implements, and the outcome of a delivery attempt.

A channel turns a `Message` into one request to its peer. It returns on success and raises
`Transient` (worth retrying: timeouts, refused connections, 5xx, 429, rate limits) or `Permanent`
(retrying cannot help: a refused address, a bad signature, a 4xx). Retrying is the caller's job
(pipeline/notify/delivery.py), so every channel gets the same backoff and the same log.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict

from pipeline.errors import DeliveryError, Permanent, Transient, Uncertain  # noqa: F401 - re-exported for the channels


@dataclass(frozen=True)
class Message:
    """One message to one leader: one or more notices grouped. `id` is stable across retries and is
    sent as the idempotency key where the channel has a place for it."""

    id: str
    leader_id: str
    title: str                    # one line, Chinese (email subject, robot title)
    text: str                     # plain text body (email)
    markdown: str                 # robot markdown body (WeCom, DingTalk)
    notices: tuple[dict[str, Any], ...] = ()   # structured notices (generic webhook)


@dataclass
class Context:
    """What channels share: one HTTP client, the SMTP server settings, the wall clock (signatures)."""

    http: httpx.Client
    env: Mapping[str, str]
    smtp: Any = None                       # notify.config.SmtpOptions or None
    timeout: float = 10.0
    wall: Callable[[], float] = field(default=time.time)
    # Robots answer slowly under load and take no idempotency key: a longer wait for their reply, and a
    # reply that still comes too late makes the delivery uncertain instead of a blind retry.
    robot_timeout: float = 15.0


class Options(BaseModel):
    """Base of every channel's options in channels.yaml: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str | None = None      # distinguishes two channels of one type for one leader


class Channel:
    """A channel: `type` is its name in channels.yaml, `Options` its pydantic options model."""

    type: ClassVar[str]
    # builtins.type: inside the class body `type` is the channel's name above
    Options: ClassVar[builtins.type[Options]]
    env_keys: ClassVar[tuple[str, ...]] = ()   # option fields that name environment variables
    # Largest markdown body (UTF-8 bytes) the peer takes; the notifier splits longer groups
    # (pipeline/notify/split.py). None: no limit.
    max_bytes: ClassVar[int | None] = None

    def __init__(self, options: Any, ctx: Context):
        self.options = options  # the channel's own Options subclass (its fields are read by name)
        self.ctx = ctx

    def send(self, message: Message) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def secret(self, name: str) -> str:
        """The value of the environment variable an `*_env` option names (checked at start-up)."""
        var = getattr(self.options, name)
        value = self.ctx.env.get(var) if var else None
        if not value:
            raise Permanent(f"environment variable {var} is not set")
        return value


def missing_env(options: Options, env_keys: tuple[str, ...], env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(option, variable) for every `*_env` option whose variable is unset or empty."""
    out = []
    for key in env_keys:
        var = getattr(options, key, None)
        if var and not env.get(var):
            out.append((key, var))
    return out


def refuse_oversize(message: Message, max_bytes: int) -> None:
    """A robot never cuts a message: one over the limit is refused (the notifier splits before
    sending, so this only guards against a caller that did not)."""
    n = len(message.markdown.encode("utf-8"))
    if n > max_bytes:
        raise Permanent(f"message {message.id} is {n} bytes, over the channel's limit of {max_bytes}: not cut")
