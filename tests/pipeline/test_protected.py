"""Protected attributes (docs/contract.md §3): one normalisation refuses disguises in events and rules alike."""

import unicodedata

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config_errors import ConfigError
from pipeline.contract import GUARDED_ATTRIBUTES, Rejection, parse_event, validate_object
from pipeline.event_schema import fast_check
from pipeline.protected import PROTECTED_NAMES, PROTECTED_TERMS, is_protected_attribute, normalise_attribute_name
from pipeline.rules.loader import load_rules
from tests.pipeline import enginekit as ek

VOCAB = ek.vocabulary()
EVENT = {
    "event_id": "e-1",
    "kind": "dispute",
    "type": "reported",
    "occurred_at": "2024-11-05T09:30:00+08:00",
    "source": "mediation",
    "subjects": [{"type": "person", "id": "P-0007", "role": "party"}],
}
# The spellings the hardening review got past the guardrail.
DISGUISES = ["民族", "宗教信仰", "政治面貌", "ethnic_group", "faith", "religion ", "ｒｅｌｉｇｉｏｎ", "reli\u200bgion"]
# Invisible or separating characters a producer can slip into a key.
NOISE = [" ", "\u3000", "\t", "\u00a0", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "_", "-", ".", "＿", "－", "．"]


def full_width(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


@st.composite
def disguised(draw) -> str:
    """A protected name as an office or a careless producer might write it."""
    if draw(st.booleans()):
        base = draw(st.sampled_from(sorted(PROTECTED_NAMES)))
    else:
        around = st.text(alphabet="人员情况类别状态abc", max_size=3)
        base = draw(around) + draw(st.sampled_from(PROTECTED_TERMS)) + draw(around)
    out = []
    for ch in base:
        if draw(st.booleans()):
            ch = ch.upper()
        if draw(st.integers(0, 4)) == 0:
            ch = full_width(ch)
        out.append(ch)
        out.extend(draw(st.lists(st.sampled_from(NOISE), max_size=2)))
    return draw(st.lists(st.sampled_from(NOISE), max_size=2).map("".join)) + "".join(out)


def shown(name: str) -> str:
    """How the contract names a key in a reason code (line-breaking characters are escaped)."""
    unsafe = any(unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs", "Cn", "Co") for ch in name[:64])
    return repr(name[:64]) if unsafe else name[:64]


def rejected(name: str, value=None) -> Rejection:
    doc = {**EVENT, "attributes": {"case_id": "MD-1", name: "回族" if value is None else value}}
    raw = orjson.dumps(doc)
    assert fast_check(raw, VOCAB.kinds) is None, "the msgspec fast path accepted a protected attribute"
    result = parse_event(raw, VOCAB)
    assert isinstance(result, Rejection), name
    assert validate_object(doc, VOCAB) == result
    return result


def rule_refused(tmp_path, name: str) -> set[str]:
    path = f"attributes.{name}"
    specs = [
        ek.rule("w", target="person", when={"kind": "dispute", path: "回族"}),
        ek.rule("s", "sequence", steps=[{"kind": "hazard"}, {path: {"exists": True}}], within="1d"),
        ek.rule("t", "threshold", when={"kind": "hazard"}, count=2, window="1d", distinct=path),
        ek.rule("a", "absence", start={"kind": "hazard"}, expect={"kind": "hazard"}, within="1d", correlate=path),
    ]
    with pytest.raises(ConfigError) as info:
        load_rules(ek.write_rules(tmp_path, specs), VOCAB)
    return {i.key for i in info.value.issues}


@pytest.mark.parametrize("name", DISGUISES)
def test_review_disguises_are_refused_in_events(name):
    assert rejected(name).reason == f"invalid_field:attributes.{name}"


@pytest.mark.parametrize("name", DISGUISES)
def test_review_disguises_are_refused_in_rules(tmp_path, name):
    path = f"attributes.{name}"
    assert {f"rules.w.when.{path}", f"rules.s.steps[1].{path}", "rules.t.distinct", "rules.a.correlate"} <= (
        rule_refused(tmp_path, name)
    )


@settings(max_examples=300, deadline=None)
@given(disguised())
def test_generated_disguises_are_protected_everywhere(name):
    assert is_protected_attribute(name), (name, normalise_attribute_name(name))
    assert rejected(name, ["a", 1]).reason == f"invalid_field:attributes.{shown(name)}"


@settings(max_examples=60, deadline=None)
@given(disguised())
def test_generated_disguises_are_refused_by_the_rule_loader(tmp_path_factory, name):
    keys = rule_refused(tmp_path_factory.mktemp("rules"), name)
    assert "rules.t.distinct" in keys and "rules.a.correlate" in keys


def test_the_guardrail_list_is_protected():
    assert all(is_protected_attribute(name) for name in GUARDED_ATTRIBUTES)


@pytest.mark.parametrize(
    "name", ["case_id", "category", "cleared", "cause", "households", "hazard_id", "due_at", "channel", "topic",
             "religious_site_visits" + "x", "healthy_plants", "单位名称", "楼层"],
)
def test_ordinary_keys_pass(name):
    # equality for the Latin names: words that merely begin like one stay usable
    assert is_protected_attribute(name) is (normalise_attribute_name(name) in PROTECTED_NAMES)
    if not is_protected_attribute(name):
        doc = {**EVENT, "attributes": {name: "x"}}
        assert not isinstance(parse_event(orjson.dumps(doc), VOCAB), Rejection)


def test_rules_check_refuses_a_person_rule_on_minzu(tmp_path):
    minzu = ek.rule("p", target="person", when={"kind": "dispute", "attributes.民族": "回族"}, score=50)
    path = ek.write_rules(tmp_path, [minzu])
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert "attributes.民族" in result.output
