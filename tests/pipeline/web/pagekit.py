"""Helpers of the alert page tests: the link secret and base URL they use, and the alert delivery
tests' helpers (tests/pipeline/notify/alertkit.py as `kit`, notify_peers.py as `peers`)."""

from __future__ import annotations

from tests.pipeline.notify import alertkit as kit
from tests.pipeline.notify import notify_peers as peers

__all__ = ["BASE", "SECRET", "kit", "peers"]

SECRET = "test-link-secret-0123456789abcdef-0123456789"
BASE = "http://testserver"

