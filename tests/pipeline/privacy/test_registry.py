"""Persons registry: encrypted at rest, key rotation, reveal only with an analyst/admin token and a purpose."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from pipeline.audit import list_records
from pipeline.auth import AccessDenied, revoke
from pipeline.persons import registry
from pipeline.persons.keys import KEYS_ENV, RegistryKeyError, key_id, load_keyring, new_key
from pipeline.storage.models import PersonRecord
from tests.pipeline.privacy.privacy_testkit import PEOPLE, PURPOSE


def _rows(engine):
    with engine.connect() as conn:
        return {r.person_id: r for r in conn.execute(sa.select(PersonRecord.__table__))}


def test_ciphertext_contains_no_plaintext(engine, registry_key, tmp_path):
    registry.store(engine, "tester", PEOPLE)
    rows = _rows(engine)
    assert set(rows) == set(PEOPLE)
    for pid, details in PEOPLE.items():
        blob = bytes(rows[pid].ciphertext)
        for value in details.values():
            assert value.encode("utf-8") not in blob
        assert rows[pid].key_id == key_id(registry_key)
    engine.dispose()
    raw_file = (tmp_path / "rw.db").read_bytes() + (
        (tmp_path / "rw.db-wal").read_bytes() if (tmp_path / "rw.db-wal").exists() else b"")
    for details in PEOPLE.values():
        for value in details.values():
            assert value.encode("utf-8") not in raw_file
    # the ciphertext is the registry key's Fernet token of the details
    assert b"13812345678" in Fernet(registry_key.encode()).decrypt(bytes(rows["P-0007"].ciphertext))


def test_reveal_returns_details_and_audits_who_when_purpose_ids(engine, registry_key, tokens):
    registry.store(engine, "tester", PEOPLE)
    before = len(list_records(engine, action="reveal"))
    found = registry.reveal(engine, tokens["analyst"], ["P-0007", "P-4040"], PURPOSE, context="test")
    assert set(found) == {"P-0007"}
    assert (found["P-0007"].name, found["P-0007"].phone) == ("王建国", "13812345678")
    reveals = list_records(engine, action="reveal")
    assert len(reveals) == before + 1
    rec = reveals[-1]
    assert rec.actor == "analyst-1"
    assert rec.detail == {"purpose": PURPOSE, "context": "test", "ids": ["P-0007", "P-4040"]}
    assert registry.reveal(engine, tokens["admin"], ["P-0101"], PURPOSE, "t")["P-0101"].extra == {"note": "1507室租户"}


@pytest.mark.parametrize("who, purpose, error", [
    (None, PURPOSE, AccessDenied),
    ("bogus", PURPOSE, AccessDenied),
    ("viewer", PURPOSE, AccessDenied),
    ("leader", PURPOSE, AccessDenied),
    ("analyst", None, registry.PurposeRequired),
    ("analyst", "   ", registry.PurposeRequired),
    ("admin", "看看", registry.PurposeRequired),
])
def test_reveal_refused_writes_nothing(engine, registry_key, tokens, who, purpose, error):
    registry.store(engine, "tester", PEOPLE)
    token = tokens.get(who, "rw_not-a-real-token" if who else None)
    count = len(list_records(engine))
    with pytest.raises(error):
        registry.reveal(engine, token, ["P-0007"], purpose, context="test")
    assert len(list_records(engine)) == count


def test_revoked_token_is_refused(engine, registry_key, tokens):
    registry.store(engine, "tester", PEOPLE)
    assert revoke(engine, tokens["analyst"]) == 1
    with pytest.raises(AccessDenied, match="revoked"):
        registry.reveal(engine, tokens["analyst"], ["P-0007"], PURPOSE, context="test")


def test_key_rotation(engine, monkeypatch, tokens):
    old, new = new_key(), new_key()
    monkeypatch.setenv(KEYS_ENV, old)
    registry.store(engine, "tester", PEOPLE)
    before = _rows(engine)
    monkeypatch.setenv(KEYS_ENV, f"{new},{old}")
    # both keys decrypt before the rotation
    assert registry.reveal(engine, tokens["admin"], ["P-0007"], PURPOSE, "t")["P-0007"].name == "王建国"
    assert registry.rotate(engine, "tester") == 2
    after = _rows(engine)
    assert {r.key_id for r in after.values()} == {key_id(new)}
    for pid in PEOPLE:
        assert bytes(after[pid].ciphertext) != bytes(before[pid].ciphertext)
        Fernet(new.encode()).decrypt(bytes(after[pid].ciphertext))
        with pytest.raises(InvalidToken):
            Fernet(old.encode()).decrypt(bytes(after[pid].ciphertext))
    assert registry.rotate(engine, "tester") == 0  # idempotent
    monkeypatch.setenv(KEYS_ENV, new)  # the old key retired
    assert registry.reveal(engine, tokens["admin"], ["P-0101"], PURPOSE, "t")["P-0101"].phone == "13987654321"
    assert [r.detail for r in list_records(engine, action="registry_rotate")][-1] == {"to_key": key_id(new), "rotated": 0}


def test_wrong_or_missing_key_is_one_clear_error(engine, monkeypatch, tokens):
    monkeypatch.delenv(KEYS_ENV, raising=False)
    with pytest.raises(RegistryKeyError, match="persons keygen"):
        load_keyring()
    monkeypatch.setenv(KEYS_ENV, "not-a-key")
    with pytest.raises(RegistryKeyError, match="key 1 is not a Fernet key"):
        load_keyring()
    monkeypatch.setenv(KEYS_ENV, new_key())
    registry.store(engine, "tester", PEOPLE)
    monkeypatch.setenv(KEYS_ENV, new_key())
    with pytest.raises(RegistryKeyError, match="P-0007: no key"):
        registry.reveal(engine, tokens["admin"], ["P-0007"], PURPOSE, "t")
