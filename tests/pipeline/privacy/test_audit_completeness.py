"""No code path reads the persons registry without writing an audit record.

Two proofs:
1. Static: the table is used (its model, or SQL/Core naming it as a table to read) only by its
   definition, its migration and pipeline/persons/registry.py; every other module would have to go
   through that module. (Naming it in a deny-list, as the dashboard lint does, is not a use.)
2. Dynamic: every public function of pipeline/persons/registry.py and every command that reveals is
   run under a statement listener; each statement that reads `person_registry` must follow an
   INSERT into audit_log in the same transaction. A new public function in the registry module
   fails this test until it is exercised here.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.persons import registry
from tests.pipeline.privacy.privacy_testkit import PEOPLE, PURPOSE

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("pipeline", "streams", "dashboards", "bench", "scripts")
ALLOWED = {
    "pipeline/persons/registry.py",            # the one reader, auditing every read
    "pipeline/storage/models.py",              # the table's definition
    "pipeline/storage/migrations/versions/0003_privacy.py",  # its creation
}
NAMES = re.compile(
    r"PersonRecord"                                                    # the model
    r"|(?i:\b(FROM|JOIN|UPDATE|INTO|TABLE)\s+[\"'`]?person_registry)"   # SQL text
    r"|(tables\[|\btable\(|Table\()\s*[\"']person_registry"            # Core / reflection
)


def test_only_the_registry_module_names_the_table():
    offenders = []
    for top in SCANNED:
        for path in (ROOT / top).rglob("*"):
            if path.suffix not in (".py", ".sql", ".sh", ".yaml", ".yml", ".json") or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT).as_posix()
            if rel not in ALLOWED and NAMES.search(path.read_text(encoding="utf-8", errors="replace")):
                offenders.append(rel)
    assert offenders == [], f"only pipeline/persons/registry.py may use the persons registry: {offenders}"
    assert NAMES.search((ROOT / "pipeline/persons/registry.py").read_text())


class StatementLog:
    """Per connection: the statements of the current transaction; violations when the registry is read
    before an audit record was inserted in that transaction."""

    def __init__(self):
        self.current: dict[int, list[str]] = {}
        self.reads = 0
        self.violations: list[str] = []

    def begin(self, conn):
        self.current[id(conn)] = []

    def end(self, conn):
        self.current.pop(id(conn), None)

    def execute(self, conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split()).lower()
        seen = self.current.setdefault(id(conn), [])
        touches = "person_registry" in text and not text.startswith(("insert", "delete"))
        if touches:
            self.reads += 1
            if not any(s.startswith("insert into audit_log") for s in seen):
                self.violations.append(statement)
        seen.append(text)


@pytest.fixture
def statements():
    log = StatementLog()
    hooks = [("begin", log.begin), ("commit", log.end), ("rollback", log.end),
             ("before_cursor_execute", log.execute)]
    for name, fn in hooks:
        sa.event.listen(sa.engine.Engine, name, fn)
    yield log
    for name, fn in hooks:
        sa.event.remove(sa.engine.Engine, name, fn)


EXERCISED = {"reveal", "store", "rotate", "authorize_reveal", "check_purpose", "pseudonyms"}


def test_every_registry_read_is_audited(engine, registry_key, tokens, statements, monkeypatch, tmp_path):
    from pipeline.persons.keys import KEYS_ENV, new_key

    public = {name for name, fn in inspect.getmembers(registry, inspect.isfunction)
              if fn.__module__ == registry.__name__ and not name.startswith("_")}
    assert public == EXERCISED, "a new registry function must be exercised by this test"

    registry.store(engine, "tester", PEOPLE)
    registry.reveal(engine, tokens["analyst"], ["P-0007", "P-0101"], PURPOSE, context="test")
    registry.pseudonyms(engine, "tester", {("person", "王建国"), ("business", "某某超市")}, create=True, context="test")
    monkeypatch.setenv(KEYS_ENV, f"{new_key()},{registry_key}")
    registry.rotate(engine, "tester")
    registry.authorize_reveal(engine, tokens["admin"], PURPOSE)
    url = str(engine.url)
    shown = CliRunner().invoke(app, ["persons", "show", "P-0007", "--token", tokens["admin"],
                                     "--purpose", PURPOSE, "--db", url])
    assert shown.exit_code == 0 and "王建国" in shown.stdout, shown.output
    from tests.pipeline.privacy.export_reveal_paths import exercise_export_reveals  # every export that can reveal

    exercise_export_reveals(url, tokens["analyst"], tmp_path)
    assert statements.reads >= 4
    assert statements.violations == []
