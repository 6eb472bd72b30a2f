"""`riskwatch persons keygen|import|show|rotate`: the encrypted persons registry.

`show` needs an analyst or admin token and a purpose, and is recorded in the audit log with the ids.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.access import DbOpt, PurposeOpt, TokenOpt, open_db, token_or_env
from pipeline.errors import UsageError

persons_app = typer.Typer(help="The persons registry (encrypted; every read audited).", no_args_is_help=True)


@persons_app.command("keygen")
def keygen() -> None:
    """Print a new registry key for RISKWATCH_REGISTRY_KEYS (put it first to rotate, then `persons rotate`)."""
    from pipeline.persons.keys import new_key

    typer.echo(new_key())


@persons_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with a header: person_id,name,phone[,...]", exists=True, dir_okay=False)],
    db: DbOpt = None,
) -> None:
    """Add or replace persons from a CSV file (encrypted under the newest key; audited with the ids)."""
    from pipeline import audit
    from pipeline.persons.ids import check_person_id
    from pipeline.persons.keys import load_keyring
    from pipeline.persons.registry import store

    keyring = load_keyring()
    with open(file, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "person_id" not in reader.fieldnames:
            raise UsageError(f"{file}: the header must name a person_id column")
        persons = {}
        for row in reader:
            pid = (row.pop("person_id") or "").strip()
            if pid:
                persons[check_person_id(pid, f"{file} line {reader.line_num}: person_id")] = {
                    k: v for k, v in row.items() if k and v
                }
    engine = open_db(db)
    try:
        n = store(engine, audit.cli_actor(), persons, keyring)
    finally:
        engine.dispose()
    typer.echo(f"stored {n} persons (encrypted under key {keyring.primary_id})")


@persons_app.command("show")
def show(
    ids: Annotated[list[str], typer.Argument(help="Pseudonymous person ids, e.g. P-0007")],
    token: TokenOpt = None,
    purpose: PurposeOpt = None,
    db: DbOpt = None,
) -> None:
    """Show persons' names and phone numbers: analyst/admin token and a purpose required; audited."""
    from pipeline.auth import AccessDenied
    from pipeline.persons.keys import load_keyring
    from pipeline.persons.registry import check_purpose, reveal

    if not token_or_env(token):
        raise AccessDenied("a token is required (--token or RISKWATCH_TOKEN)")
    check_purpose(purpose)
    keyring = load_keyring()
    engine = open_db(db)
    try:
        found = reveal(engine, token_or_env(token), ids, purpose, context="persons show", keyring=keyring)
    finally:
        engine.dispose()
    for pid in ids:
        p = found.get(pid)
        if p is None:
            typer.echo(f"{pid}\t(未登记)")
        else:
            typer.echo(f"{pid}\t{p.name or ''}\t{p.phone or ''}")


@persons_app.command("rotate")
def rotate_cmd(db: DbOpt = None) -> None:
    """Re-encrypt every registry row under the newest key of RISKWATCH_REGISTRY_KEYS (audited)."""
    from pipeline import audit
    from pipeline.persons.keys import load_keyring
    from pipeline.persons.registry import rotate

    keyring = load_keyring()
    engine = open_db(db)
    try:
        n = rotate(engine, audit.cli_actor(), keyring)
    finally:
        engine.dispose()
    typer.echo(f"re-encrypted {n} persons under key {keyring.primary_id}; the older keys may now be removed")
