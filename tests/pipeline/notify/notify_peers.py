"""Real peers on loopback for the channel tests: an HTTP receiver (generic webhook, WeCom robot,
DingTalk robot with signature verification) with scripted faults, and an aiosmtpd SMTP server.

The HTTP receiver records every request and the messages "in effect": a repeat of an
Idempotency-Key already accepted is answered 200 and not counted again, as a receiver that
de-duplicates does. Faults are scripted per request: status, headers, delay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Step:
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    body: dict | None = None


@dataclass
class Request:
    path: str
    query: dict
    headers: dict
    body: dict


class Receiver:
    """ThreadingHTTPServer on 127.0.0.1:<free port>. `script` is consumed one Step per request;
    when empty, requests succeed. `dingtalk_secret`: verify the signature as DingTalk does."""

    def __init__(self, dingtalk_secret: str | None = None):
        self.requests: list[Request] = []
        self.effective: list[Request] = []
        self.script: list[Step] = []
        self.dingtalk_secret = dingtalk_secret
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                receiver._handle(self, raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _reply(self, handler, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            for k, v in (headers or {}).items():
                handler.send_header(k, v)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): what a slow peer sees

    def _handle(self, handler, raw: bytes) -> None:
        split = urlsplit(handler.path)
        req = Request(split.path, {k: v[0] for k, v in parse_qs(split.query).items()},
                      {k.lower(): v for k, v in handler.headers.items()}, json.loads(raw.decode("utf-8")))
        with self._lock:
            self.requests.append(req)
            step = self.script.pop(0) if self.script else Step()
        if step.delay:
            time.sleep(step.delay)
        if step.status != 200:
            self._reply(handler, step.status, step.body or {"error": "scripted"}, step.headers)
            return
        if self.dingtalk_secret is not None:
            problem = self.verify_dingtalk(req.query)
            if problem:
                self._reply(handler, 200, {"errcode": 310000, "errmsg": f"sign not match: {problem}"})
                return
        with self._lock:
            key = req.headers.get("idempotency-key")
            if key is None or key not in self._keys:
                self.effective.append(req)
                if key is not None:
                    self._keys.add(key)
        self._reply(handler, 200, step.body or {"errcode": 0, "errmsg": "ok"})

    def verify_dingtalk(self, query: dict) -> str | None:
        """DingTalk's check: timestamp (ms) within an hour of now, and sign == base64(HMAC-SHA256(
        secret, f"{timestamp}\\n{secret}")) (the query string's URL encoding already undone)."""
        ts, sign = query.get("timestamp"), query.get("sign")
        if not ts or not sign:
            return "missing timestamp or sign"
        if abs(int(ts) - time.time() * 1000) > 3600_000:
            return "timestamp out of range"
        secret = self.dingtalk_secret.encode()
        expected = base64.b64encode(hmac.new(secret, f"{ts}\n{self.dingtalk_secret}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected.decode(), sign):
            return "bad signature"
        return None


class MailSink:
    """aiosmtpd on 127.0.0.1:<free port>; `messages` are parsed email.message.EmailMessage objects.
    `refuse_rcpt`: answer RCPT with this reply (e.g. '550 5.1.1 no such user')."""

    def __init__(self, refuse_rcpt: str | None = None):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.raw: list[bytes] = []
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if refuse_rcpt:
                    return refuse_rcpt
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                sink.raw.append(envelope.original_content)
                sink.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.original_content))
                return "250 Message accepted"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def free_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
