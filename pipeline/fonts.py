"""The one place that finds a CJK font: PDF exports, charts and dashboard screenshots all use it.

`cjk_font_path()` returns a TrueType font (or TrueType collection) that renders Simplified Chinese.
Lookup order: the file named by RISKWATCH_CJK_FONT, then the Debian packages' files below (first
found wins). The fonts are TrueType outlines on purpose: reportlab embeds TrueType but not the CFF
outlines of Noto Sans CJK, so Noto is only a last resort for consumers that handle CFF (a browser).

`make install` runs scripts/apt-ensure.sh, which installs the package when its font file is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import FontNotFound

FONT_ENV = "RISKWATCH_CJK_FONT"
APT_PACKAGE = "fonts-wqy-zenhei"
# (path, subfont index within a .ttc collection); the first existing one is used.
CANDIDATES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),       # fonts-wqy-zenhei
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),     # fonts-wqy-microhei
)


def _candidates() -> list[tuple[Path, int]]:
    override = os.environ.get(FONT_ENV)
    found = [(Path(override), 0)] if override else []
    return found + list(CANDIDATES)


def cjk_font(require_truetype: bool = True) -> tuple[Path, int]:
    """(path, subfont index) of an installed CJK font; FontNotFound naming the apt package otherwise."""
    override = os.environ.get(FONT_ENV)
    if override and not Path(override).is_file():
        raise FontNotFound(f"{FONT_ENV}={override} is not a file")
    for path, index in _candidates():
        if path.is_file():
            return path, index
    raise FontNotFound(
        f"no CJK font found (looked for {', '.join(str(p) for p, _ in CANDIDATES)}): "
        f"install it with `apt-get install {APT_PACKAGE}` (`make install` runs scripts/apt-ensure.sh), "
        f"or point {FONT_ENV} at a TrueType font with Chinese glyphs"
    )


def cjk_font_path() -> Path:
    """Path of an installed CJK TrueType font (.ttf or .ttc); FontNotFound naming the apt package."""
    return cjk_font()[0]


def cjk_font_name() -> str:
    """The font's family name as matplotlib knows it (registers the file with matplotlib once)."""
    from matplotlib import font_manager

    path = str(cjk_font_path())
    if path not in {f.fname for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()
