"""pipeline/fonts.py: one CJK font lookup, with an error that names the package to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import fonts


def test_the_installed_font_has_chinese_glyphs():
    from matplotlib.ft2font import FT2Font

    path = fonts.cjk_font_path()
    face = FT2Font(str(path))
    assert all(face.get_char_index(ord(ch)) for ch in "虹都中心风险研判")


def test_missing_font_names_the_apt_package(monkeypatch, tmp_path):
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", ((tmp_path / "none.ttc", 0),))
    with pytest.raises(fonts.FontNotFound, match="apt-get install fonts-wqy-zenhei"):
        fonts.cjk_font_path()


def test_environment_override_wins_and_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(fonts.FontNotFound, match="is not a file"):
        fonts.cjk_font_path()
    real = fonts.CANDIDATES[0][0]
    copy = tmp_path / "mine.ttc"
    copy.symlink_to(real if real.exists() else Path(fonts.__file__))
    monkeypatch.setenv(fonts.FONT_ENV, str(copy))
    assert fonts.cjk_font_path() == copy
