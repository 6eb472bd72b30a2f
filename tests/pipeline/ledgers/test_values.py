from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.ledgers.values import CellError, clean_text, compact, is_blank, parse_date, parse_number
from tests.conftest import examples

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("cell", [
    "2024-03-05", "2024/3/5", "2024.3.5", "2024年3月5日", "２０２４年３月５日", " 2024-03-05 ", "2024 年 3 月 5 日",
    datetime(2024, 3, 5), date(2024, 3, 5), pd.Timestamp("2024-03-05"),
])
def test_a_date_alone_is_nine_in_the_morning_in_beijing(cell):
    assert parse_date(cell, TZ) == datetime(2024, 3, 5, 9, 0, tzinfo=TZ)


@pytest.mark.parametrize("cell", [
    "2024-03-05 14:30", "2024/3/5 14:30:00", "2024.3.5 14:30", "2024年3月5日 14:30", "2024年3月5日14时30分",
    "2024-03-05T14:30", "2024-03-05 １４：３０", datetime(2024, 3, 5, 14, 30),
])
def test_a_date_with_a_time_keeps_it(cell):
    assert parse_date(cell, TZ) == datetime(2024, 3, 5, 14, 30, tzinfo=TZ)


def test_a_deadline_is_the_end_of_its_day():
    for cell in ("2024-03-05", datetime(2024, 3, 5), "2024年3月5日"):
        assert parse_date(cell, TZ, end_of_day=True) == datetime(2024, 3, 5, 23, 59, 59, tzinfo=TZ)


@pytest.mark.parametrize(("cell", "words"), [
    ("2024-13-01", "不存在"), ("2024-02-30", "不存在"), ("明天", "无法识别"), ("03/05/2024", "无法识别"),
    ("2024-03-05 25:00", "不存在"), ("", "为空"),
])
def test_unreadable_dates_are_refused_in_chinese(cell, words):
    with pytest.raises(CellError) as err:
        parse_date(cell, TZ)
    assert words in err.value.reason


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.sampled_from(
    ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}", "{y}年{m}月{d}日"]))
@hsettings(max_examples=examples(400))
def test_every_listed_form_reads_back_the_same_day(day, form):
    text = form.format(y=day.year, m=day.month, d=day.day)
    assert parse_date(text, TZ).date() == day


@pytest.mark.parametrize(("cell", "value"), [
    ("12", 12), ("１２", 12), ("12人", 12), ("12人次", 12), ("1,500元", 1500), ("１５００元", 1500), (" 3 ", 3),
    (4.0, 4), (7, 7), ("2.5", 2.5), ("0", 0),
])
def test_numbers_in_every_form(cell, value):
    assert parse_number(cell) == value and type(parse_number(cell)) is type(value)


@pytest.mark.parametrize("cell", ["十二", "12辆车", "-3", "abc", True])
def test_bad_numbers_are_refused_in_chinese(cell):
    with pytest.raises(CellError) as err:
        parse_number(cell)
    assert "数字" in err.value.reason


def test_blank_and_text_cleaning():
    assert is_blank(None) and is_blank(float("nan")) and is_blank(" \u3000") and is_blank(pd.NaT)
    assert not is_blank(0)
    assert clean_text("\u3000 编 号 ") == "编 号"
    assert compact("\u3000编\u3000号 ") == "编号"
    assert clean_text(12.0) == "12"


def test_dates_next_to_midnight_keep_the_time():
    one_minute = datetime(2024, 3, 5, 0, 1)
    assert parse_date(one_minute, TZ) == (datetime(2024, 3, 5, tzinfo=TZ) + timedelta(minutes=1))
