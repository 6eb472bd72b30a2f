"""The only code that touches the `person_registry` table. Every function that reads it writes an
audit record in the same transaction, before the rows are read; a test greps the code base for any
other use of the table (tests/pipeline/privacy/test_audit_completeness.py).

- reveal(): a person's details for an analyst or admin token and a stated purpose (PIPL art. 6/28):
  refused before anything is read or written when the token, the role or the purpose is missing.
- store(): add or replace persons' details (encrypted under the primary key).
- rotate(): re-encrypt every row under the primary key (after a new key was put first).
- pseudonyms(): the ids of names as a ledger holds them, registering new ones (ledger import).
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import orjson
import sqlalchemy as sa
from cryptography.fernet import InvalidToken

from pipeline import audit
from pipeline.auth import REVEAL_ROLES, require_role
from pipeline.errors import PurposeRequired
from pipeline.persons.ids import check_person_id, is_person_id, person_ids
from pipeline.persons.keys import Keyring, RegistryKeyError, load_keyring
from pipeline.storage.models import PersonRecord

REGISTRY = cast(sa.Table, PersonRecord.__table__)  # declared as FromClause; it is a Table
MIN_PURPOSE = 4
FIELDS = ("name", "phone")


@dataclass(frozen=True)
class PersonDetails:
    person_id: str
    name: str | None
    phone: str | None
    extra: dict


def check_purpose(purpose: str | None) -> str:
    text = (purpose or "").strip()
    if len(text) < MIN_PURPOSE:
        raise PurposeRequired(f"查看人员真实身份须说明用途（--purpose，至少 {MIN_PURPOSE} 个字），用途将记入审计日志")
    return text


def authorize_reveal(bind: sa.Engine, token: str | None, purpose: str | None) -> tuple[str, str]:
    """(actor, purpose) when a reveal may go ahead; PurposeRequired / AccessDenied otherwise. Reads
    only the token table and writes nothing, so commands check it before producing any output."""
    purpose = check_purpose(purpose)
    return require_role(bind, token, REVEAL_ROLES), purpose


def reveal(bind: sa.Engine, token: str | None, ids, purpose: str | None, context: str,
           keyring: Keyring | None = None) -> dict[str, PersonDetails]:
    """Details of the registered persons among `ids` (pseudonymous ids), audited as `reveal` with
    who, when, purpose, context (the command) and the ids asked for and found."""
    keyring = keyring or load_keyring()
    wanted = sorted(set(person_ids(ids)))
    actor, purpose = authorize_reveal(bind, token, purpose)
    with bind.begin() as conn:
        detail = {"purpose": purpose, "context": context, "ids": wanted}
        audit.record(conn, actor, audit.REVEAL, detail)
        rows = conn.execute(sa.select(REGISTRY.c.person_id, REGISTRY.c.ciphertext)
                            .where(REGISTRY.c.person_id.in_(wanted))).all() if wanted else []
    return {r.person_id: _decrypt(keyring, r.person_id, r.ciphertext) for r in rows}


def store(bind: sa.Engine, actor: str, persons: dict[str, dict], keyring: Keyring | None = None) -> int:
    """Add or replace the details of `persons` ({id: {name, phone, ...}}); audited with the ids.

    Every id is checked before anything is written: a name given as an id reaches neither the
    registry nor the append-only audit log."""
    person_ids(persons)
    keyring = keyring or load_keyring()
    now = datetime.now(UTC)
    rows = [{"person_id": pid, "ciphertext": keyring.fernet.encrypt(orjson.dumps(details)),
             "key_id": keyring.primary_id, "updated_at": now} for pid, details in persons.items()]
    if not rows:
        return 0
    with bind.begin() as conn:
        audit.record(conn, actor, audit.REGISTRY_WRITE, {"ids": sorted(persons), "count": len(rows)})
        conn.execute(REGISTRY.delete().where(REGISTRY.c.person_id.in_(list(persons))))
        conn.execute(REGISTRY.insert(), rows)
    return len(rows)


def rotate(bind: sa.Engine, actor: str, keyring: Keyring | None = None) -> int:
    """Re-encrypt every row not yet under the primary key; audited with the count and key ids."""
    keyring = keyring or load_keyring()
    with bind.begin() as conn:
        audit.record(conn, actor, audit.REGISTRY_ROTATE, {"to_key": keyring.primary_id})
        rows = conn.execute(sa.select(REGISTRY.c.person_id, REGISTRY.c.ciphertext)
                            .where(REGISTRY.c.key_id != keyring.primary_id)).all()
        for r in rows:
            try:
                token = keyring.fernet.rotate(r.ciphertext)
            except InvalidToken:
                raise RegistryKeyError(f"{r.person_id}: no key in the keyring decrypts it") from None
            conn.execute(REGISTRY.update().where(REGISTRY.c.person_id == r.person_id)
                         .values(ciphertext=token, key_id=keyring.primary_id, updated_at=datetime.now(UTC)))
        audit.record(conn, actor, audit.REGISTRY_ROTATE, {"to_key": keyring.primary_id, "rotated": len(rows)})
    return len(rows)


def pseudonyms(bind: sa.Engine, actor: str, names: set[tuple[str, str]], *, create: bool, context: str,
               keyring: Keyring | None = None) -> dict[tuple[str, str], str]:
    """The registry id of each (entity, name) pair, entity `person` or `business` (businesses are rows
    whose details say `"entity": "business"`; their ids start with B-).

    The ciphertexts are randomised, so names are compared after decrypting every row; the read is
    audited first as `registry_lookup` with the context and counts (never names). With `create`,
    names not found are registered under new random ids in the same transaction, audited as
    `registry_write` with those ids."""
    if not names:
        return {}
    keyring = keyring or load_keyring()
    keys = {pair: (pair[0], _name_key(pair[1])) for pair in names}
    ids: dict[tuple[str, str], str] = {}
    with bind.begin() as conn:
        audit.record(conn, actor, audit.REGISTRY_LOOKUP, {"context": context, "names": len(set(keys.values()))})
        taken: set[str] = set()
        wanted = set(keys.values())
        for r in conn.execute(sa.select(REGISTRY.c.person_id, REGISTRY.c.ciphertext)).all():
            taken.add(r.person_id)
            if not is_person_id(r.person_id):
                continue  # a row stored before ids were checked (a name as id) never becomes a subject
            details = _decrypt(keyring, r.person_id, r.ciphertext)
            entity = "business" if details.extra.get("entity") == "business" else "person"
            key = (entity, _name_key(details.name or ""))
            if key in wanted:
                ids.setdefault(key, r.person_id)
        missing = sorted(wanted - ids.keys())
        if create and missing:
            names_of = {key: pair[1] for pair, key in sorted(keys.items())}
            rows = []
            for key in missing:
                entity = key[0]
                pid = check_person_id(_new_id("B" if entity == "business" else "P", taken), f"new {entity} id")
                fresh: dict[str, str] = {"name": names_of[key], "source": "ledger"}
                if entity == "business":
                    fresh["entity"] = "business"
                rows.append({"person_id": pid, "ciphertext": keyring.fernet.encrypt(orjson.dumps(fresh)),
                             "key_id": keyring.primary_id, "updated_at": datetime.now(UTC)})
                ids[key] = pid
            audit.record(conn, actor, audit.REGISTRY_WRITE,
                         {"ids": sorted(r["person_id"] for r in rows), "count": len(rows), "context": context})
            conn.execute(REGISTRY.insert(), rows)
    return {pair: ids[key] for pair, key in keys.items() if key in ids}

def _name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _new_id(prefix: str, taken: set[str]) -> str:
    while True:
        pid = f"{prefix}-{secrets.token_hex(4).upper()}"
        if pid not in taken:
            taken.add(pid)
            return pid


def _decrypt(keyring: Keyring, person_id: str, ciphertext: bytes) -> PersonDetails:
    try:
        data = orjson.loads(keyring.fernet.decrypt(bytes(ciphertext)))
    except InvalidToken:
        raise RegistryKeyError(f"{person_id}: no key in the keyring decrypts it") from None
    extra = {k: v for k, v in data.items() if k not in FIELDS}
    return PersonDetails(person_id, data.get("name"), data.get("phone"), extra)
