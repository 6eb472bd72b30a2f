"""One POST of JSON to a peer, with the failure classification every HTTP channel shares.

Transient: timeouts, connection errors, 408, 429 and 5xx (with the Retry-After the peer asked for,
in seconds or as an HTTP date). Permanent: any other non-2xx. Uncertain: the request went out whole
but no reply came within the timeout, to a peer that takes no idempotency key (a robot): it may have
been delivered, and sending it again could post it twice. The URL is never put in an error
message with its query string (robots carry their key or signature there).
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pipeline.notify.channels.base import Context, Permanent, Transient, Uncertain


def shown(url: str) -> str:
    """The URL without query and credentials, for messages."""
    try:
        u = httpx.URL(url)
        return f"{u.scheme}://{u.host}{':' + str(u.port) if u.port else ''}{u.path}"
    except Exception:  # noqa: BLE001 - an unparsable URL is not shown at all
        return "(url)"


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def post_json(ctx: Context, url: str, payload: Any, headers: dict[str, str] | None = None,
              params: dict[str, str] | None = None, *, idempotent: bool = True,
              timeout: float | None = None) -> httpx.Response:
    """POST `payload` as UTF-8 JSON; the 2xx response, else Transient/Permanent, or Uncertain when a
    non-`idempotent` request was sent but its reply did not come within `timeout` (default ctx.timeout)."""
    if params:  # httpx replaces a URL's query with `params`: merge, the robot URL carries its token
        url = str(httpx.URL(url).copy_merge_params(params))
    timeout = ctx.timeout if timeout is None else timeout
    try:
        response = ctx.http.post(url, json=payload, headers=headers, timeout=timeout)
    except httpx.ReadTimeout as exc:
        text = f"timeout: no reply within {timeout:g}s from {shown(url)} ({type(exc).__name__})"
        if idempotent:
            raise Transient(text) from None
        raise Uncertain(f"{text}: it may have been delivered, not sent again") from None
    except httpx.TimeoutException as exc:   # connect, write or pool: the request did not go out whole
        raise Transient(f"timeout after {timeout:g}s posting to {shown(url)} ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise Transient(f"cannot reach {shown(url)}: {type(exc).__name__}: {exc}") from None
    status = response.status_code
    if 200 <= status < 300:
        return response
    where = f"{shown(url)} answered HTTP {status}"
    if status in (408, 429) or status >= 500:
        raise Transient(where, retry_after(response.headers.get("Retry-After"), ctx.wall()))
    raise Permanent(where)


def robot_result(response: httpx.Response, url: str, transient_codes: frozenset[int]) -> None:
    """WeCom and DingTalk robots answer HTTP 200 with {"errcode": 0, "errmsg": "ok"}; anything else
    is a refusal: rate limits are transient, the rest (bad key, bad signature, bad body) permanent."""
    try:
        body = response.json()
        code = int(body.get("errcode", -1))
        msg = str(body.get("errmsg", ""))[:200]
    except (ValueError, AttributeError, TypeError):
        raise Permanent(f"{shown(url)} answered HTTP {response.status_code} without a robot result") from None
    if code == 0:
        return
    if code in transient_codes:
        raise Transient(f"{shown(url)} rate-limited the robot (errcode {code}: {msg})", 60.0)
    raise Permanent(f"{shown(url)} refused the message (errcode {code}: {msg})")
