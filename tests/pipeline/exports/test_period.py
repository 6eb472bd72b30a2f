"""`--week` takes an ISO week or any day of it; weeks are named in the official style."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.exports.period import iso_week

TZ = "Asia/Shanghai"


def test_a_date_names_its_week():
    assert iso_week("2024-11-06", TZ) == iso_week("2024-W45", TZ)
    assert iso_week("2024-11-10", TZ).label == "2024-W45" and iso_week("2024-11-11", TZ).label == "2024-W46"
    assert iso_week("2024-12-30", TZ).label == "2025-W01"
    assert iso_week("2024-W45", TZ).week_zh() == "2024年第45周（11月4日—11月10日）"


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_every_day_lies_in_the_week_it_names(day):
    period = iso_week(day.isoformat(), TZ)
    assert period.first_day <= day <= period.last_day and period.days == 7


@pytest.mark.parametrize("text", ["2024-02-30", "2024-W54", "W45", "6 Nov"])
def test_bad_weeks_are_refused(text):
    with pytest.raises(ValueError):
        iso_week(text, TZ)
