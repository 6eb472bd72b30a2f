"""Helpers of the alert page tests: the link secret and base URL they use, and the alert delivery
tests' helpers (tests/pipeline/notify/alertkit.py, notify_peers.py) loaded once by file path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parents[1] / "notify"
SECRET = "test-link-secret-0123456789abcdef-0123456789"
BASE = "http://testserver"


def load_kit(name: str):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, KIT_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


kit = load_kit("alertkit")
