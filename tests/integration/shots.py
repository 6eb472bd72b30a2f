"""Where the browser tests put their screenshots: docs/img (the README's pictures) when
RISKWATCH_UPDATE_DOCS_IMG is set, else a temporary folder, so a test run leaves the tracked pictures
alone. Refresh them with `RISKWATCH_UPDATE_DOCS_IMG=1 make test PYTEST_ARGS='-k browser'`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def screenshot_dir() -> Path:
    if os.environ.get("RISKWATCH_UPDATE_DOCS_IMG"):
        return DOCS_IMG
    return Path(tempfile.mkdtemp(prefix="riskwatch-shots-"))
