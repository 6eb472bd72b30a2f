"""Person ids are pseudonymous keys wherever they enter: a name given as an id is refused before anything
is stored or written to the append-only audit log."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.audit import list_records
from pipeline.cli import app
from pipeline.contract import Rejection, parse_event
from pipeline.errors import InvalidPersonId
from pipeline.persons import registry
from pipeline.persons.ids import check_person_id, is_person_id, person_ids
from pipeline.storage.models import AuditLog, PersonRecord
from tests.pipeline import enginekit as ek
from tests.pipeline.privacy.privacy_testkit import PURPOSE

NAME_AS_ID = "王五 13700137000"


def audit_text(engine) -> str:
    with engine.connect() as conn:
        return orjson.dumps([dict(r._mapping) for r in conn.execute(sa.select(AuditLog.__table__))],
                            default=str).decode()


def registry_ids(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(PersonRecord.__table__.c.person_id)).scalars())


@pytest.mark.parametrize("bad", [NAME_AS_ID, "王五", "P 0007", "", "P-0007\n", "x" * 65, "13700137000 ", "张三/P1"])
def test_names_and_odd_text_are_not_ids(bad):
    assert not is_person_id(bad)
    with pytest.raises(InvalidPersonId) as info:
        check_person_id(bad, "persons.csv line 3: person_id")
    assert str(info.value).startswith("persons.csv line 3: person_id: not a pseudonymous key")
    assert "王五" not in str(info.value) and "13700137000" not in str(info.value)


@given(st.text(alphabet="ABCPXYZ0123456789.-_:", min_size=1, max_size=64))
def test_keys_are_ids(key):
    assert person_ids([key]) == [key]


def test_persons_import_refuses_a_name_as_id(engine, registry_key, tmp_path):
    url = str(engine.url)
    csv = tmp_path / "persons.csv"
    csv.write_text(f"person_id,name,phone\nP-0007,王建国,13812345678\n{NAME_AS_ID},王五,13700137000\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["persons", "import", str(csv), "--db", url])
    assert result.exit_code == 2, result.output
    assert "line 3" in result.output and "13700137000" not in result.output
    assert registry_ids(engine) == []  # refused as a whole: the good row waits for a clean file
    assert "13700137000" not in audit_text(engine) and "王五" not in audit_text(engine)


def test_store_refuses_before_writing_or_auditing(engine, registry_key):
    with pytest.raises(InvalidPersonId):
        registry.store(engine, "cli:test", {"P-0007": {"name": "甲"}, NAME_AS_ID: {"name": "王五"}})
    assert registry_ids(engine) == [] and list_records(engine) == []


def test_reveal_refuses_a_name_as_id_before_auditing(engine, registry_key, tokens):
    with pytest.raises(InvalidPersonId):
        registry.reveal(engine, tokens["analyst"], ["P-0007", NAME_AS_ID], PURPOSE, context="test")
    assert "13700137000" not in audit_text(engine)
    assert "reveal" not in [r.action for r in list_records(engine)]


def test_persons_show_refuses_a_name_as_id(engine, registry_key, tokens):
    result = CliRunner().invoke(app, ["persons", "show", NAME_AS_ID, "--token", tokens["analyst"],
                                      "--purpose", PURPOSE, "--db", str(engine.url)])
    assert result.exit_code == 2
    assert "13700137000" not in audit_text(engine)


def test_events_with_a_name_as_subject_id_are_rejected():
    doc = ek.event("e-1", "dispute", "reported", person=NAME_AS_ID)
    result = parse_event(orjson.dumps(doc), ek.vocabulary())
    assert isinstance(result, Rejection) and result.reason == "invalid_field:subjects"


def test_the_ledgers_registry_helper_never_hands_out_a_name_as_id(engine, registry_key):
    """A registry row written before ids were checked (its id a name and phone) is never reused as an
    event's subject: the ledger import gets a fresh pseudonymous id for that name."""
    from datetime import UTC, datetime

    from pipeline.persons.keys import load_keyring

    keyring = load_keyring()
    with engine.begin() as conn:
        conn.execute(PersonRecord.__table__.insert().values(
            person_id=NAME_AS_ID, ciphertext=keyring.fernet.encrypt(orjson.dumps({"name": "王五"})),
            key_id=keyring.primary_id, updated_at=datetime.now(UTC)))
    ids = registry.pseudonyms(engine, "cli:test", {("person", "王五")}, create=True, context="ledger test")
    assert is_person_id(ids[("person", "王五")]) and ids[("person", "王五")] != NAME_AS_ID
