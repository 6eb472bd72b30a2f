"""Grouped notices as messages a channel takes whole: never cut, split instead.

Robots limit a message (WeCom 4096 bytes of markdown, DingTalk 20,000). Notices for one leader and
channel are packed, in order, into as many messages as needed, each under the limit; a notice that
alone is over it goes out as numbered parts, cut between lines (what matters first: the facts and
the links to act come before the reasons). Each message is a `Part` with the outbox rows it carries,
so a notice is recorded `sent` only when every byte of its text went out.

A part's message id is the group's when the group fits in one message, else a hash of the group's id
and the part's rows: packing the same rows again (a retry) gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipeline.notify.channels.base import Message

# Bytes kept free in every piece of a notice that is split for the part header (“（续 2/3）”).
_HEADER_ROOM = 64


@dataclass(frozen=True)
class Part:
    id: str                           # the message id the part's rows are recorded under
    rows: tuple[Any, ...]             # the outbox rows (notices) this part carries
    messages: tuple[Message, ...]     # one message, or the pieces of one notice over the limit


def size(message: Message) -> int:
    """What a robot counts: the UTF-8 bytes of the markdown body."""
    return len(message.markdown.encode("utf-8"))


def split(render: Callable[[str, Sequence[Any]], Message], message_id: str,
          items: Sequence[tuple[Any, Any]], max_bytes: int | None) -> list[Part]:
    """`items` ((row, notice) pairs, in order) as parts whose messages are each at most `max_bytes`
    (None: no limit, one part). `render(message_id, notices)` renders one message."""
    if not items:
        return []
    whole = render(message_id, [n for _, n in items])
    if max_bytes is None or size(whole) <= max_bytes:
        return [Part(message_id, tuple(r for r, _ in items), (whole,))]
    packs: list[list[tuple[Any, Any]]] = []
    current: list[tuple[Any, Any]] = []
    for item in items:
        if current and size(render(message_id, [n for _, n in [*current, item]])) <= max_bytes:
            current.append(item)
            continue
        if current:
            packs.append(current)
        current = [item]
    packs.append(current)
    parts = []
    for pack in packs:
        rows = tuple(r for r, _ in pack)
        mid = _part_id(message_id, rows)
        message = render(mid, [n for _, n in pack])
        pieces = (message,) if size(message) <= max_bytes else _pieces(message, max_bytes)
        parts.append(Part(mid, rows, pieces))
    return parts


def _part_id(message_id: str, rows: Sequence[Any]) -> str:
    key = f"{message_id}|" + ",".join(str(getattr(r, "id", r)) for r in rows)
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _pieces(message: Message, max_bytes: int) -> tuple[Message, ...]:
    """One notice over the limit as numbered messages, cut between lines (a line longer than a piece
    is cut between characters); nothing is dropped."""
    room = max_bytes - _HEADER_ROOM
    chunks: list[str] = []
    current = ""
    for line in _short_lines(message.markdown, room):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode("utf-8")) <= room:
            current = candidate
        else:
            chunks.append(current)
            current = line
    chunks.append(current)
    total = len(chunks)
    return tuple(
        replace(message, id=f"{message.id}-{i}", title=f"{message.title}（{i}/{total}）",
                markdown=(f"（续 {i}/{total}）\n\n{chunk}" if i > 1 else f"{chunk}\n\n（{i}/{total}，下接续条）"),
                text=chunk)
        for i, chunk in enumerate(chunks, 1)
    )


def _short_lines(text: str, room: int) -> list[str]:
    out = []
    for line in text.split("\n"):
        while len(line.encode("utf-8")) > room:
            cut = line.encode("utf-8")[:room].decode("utf-8", errors="ignore")
            out.append(cut)
            line = line[len(cut):]
        out.append(line)
    return out
