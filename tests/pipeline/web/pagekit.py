"""Helpers of the alert page tests: the link secret and base URL they use, and the alert delivery
tests' helpers (tests/pipeline/notify/alertkit.py as `kit`, notify_peers.py as `peers`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))
import alertkit as kit  # noqa: E402, F401
import notify_peers as peers  # noqa: E402, F401

SECRET = "test-link-secret-0123456789abcdef-0123456789"
BASE = "http://testserver"
