"""`riskwatch export weekly|annual`: the weekly risk review (xlsx + PDF) and the yearly statistics (docs/contract.md §7).

Every export is recorded in the audit log. `--reveal` puts names beside pseudonymous person ids; it
needs an analyst or admin token and a purpose, checked before anything is read or written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.access import DbOpt, PurposeOpt, TokenOpt, open_db, token_or_env
from pipeline.commands.common import ConfigDirOpt, read_config
from pipeline.errors import UsageError

export_app = typer.Typer(help="Exports: the weekly risk review (xlsx, pdf) and the yearly statistics.",
                         no_args_is_help=True)
OutOpt = Annotated[Path, typer.Option("--out", help="Directory for the files", file_okay=False)]



@export_app.command("weekly")
def weekly(
    week: Annotated[str, typer.Option("--week", help="ISO week (2024-W45) or any day of it (2024-11-06); the area's time zone")],
    out: OutOpt = Path("."),
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: xlsx, pdf")] = "xlsx,pdf",
    reveal: Annotated[bool, typer.Option("--reveal", help="Show persons' names (analyst/admin token and --purpose)")] = False,
    token: TokenOpt = None,
    purpose: PurposeOpt = None,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Write the weekly risk review: an Excel workbook and a PDF meeting brief."""
    from pipeline import audit
    from pipeline.auth import AccessDenied
    from pipeline.exports.period import iso_week
    from pipeline.exports.writers import EXPORTERS

    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in EXPORTERS]
    if not chosen or unknown:
        raise UsageError(f"--format: unknown {', '.join(unknown) or '(none)'} (choose from {', '.join(EXPORTERS)})")
    token = token_or_env(token)
    if reveal:
        from pipeline.persons.registry import check_purpose

        if not token:
            raise AccessDenied("--reveal needs a token (--token or RISKWATCH_TOKEN)")
        check_purpose(purpose)
    cfg = read_config(config)
    try:
        iso_week(week, cfg.area.tz)
    except ValueError as exc:
        raise UsageError(f"--week: {exc}") from None
    engine = open_db(db)
    try:
        actor = audit.cli_actor()
        if reveal:
            from pipeline.persons.keys import load_keyring
            from pipeline.persons.registry import authorize_reveal

            keyring = load_keyring()
            actor, _ = authorize_reveal(engine, token, purpose)
        paths = _write_weekly(engine, cfg, week, out, chosen, reveal and (token, purpose, keyring))
        audit.record(engine, actor, audit.EXPORT, {
            "export": "weekly", "week": week, "formats": chosen, "files": [p.name for p in paths],
            "revealed": bool(reveal)})
    finally:
        engine.dispose()
    for p in paths:
        typer.echo(str(p))


def _write_weekly(engine, cfg, week, out: Path, chosen, reveal):
    from pipeline.commands.progress import Steps
    from pipeline.exports.review import build_review, with_names
    from pipeline.exports.writers import EXPORTERS, write_export

    with Steps(5 + len(chosen) + bool(reveal), "周报") as step:
        review = build_review(engine, cfg, week, progress=step)
        if reveal:
            from pipeline.persons.registry import reveal as reveal_persons

            token, purpose, keyring = reveal
            step("身份信息")
            found = reveal_persons(engine, token, review.person_ids, purpose,
                                   context=f"export weekly {review.period.label}", keyring=keyring)
            review = with_names(review, found)
        paths = []
        for name in chosen:
            step(f"写出 {name}")
            paths.append(write_export(review, EXPORTERS[name], out))
    return paths


@export_app.command("annual")
def annual(
    year: Annotated[int, typer.Option("--year", help="Calendar year in the area's time zone")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the docs/contract.md §7 figures as one JSON object")] = False,
    extended: Annotated[bool, typer.Option(
        "--extended", help="With --json: add the report's other figures (hazards_rectified, warnings_issued, …)")] = False,
    formats: Annotated[str, typer.Option("--format", help="docx, pdf or both (comma-separated)")] = "docx,pdf",
    out: OutOpt = Path("."),
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Yearly rule-of-law statistics (docs/contract.md §7): JSON, or a Chinese report section in official
    A4 style (docx and PDF). `--json` prints exactly the contract's keys (and `year`), so other systems
    can compare the object whole; `--extended` adds the report's other figures. A year without any
    stored event writes no report (exit 3); with --json its zeros are printed, with a warning on stderr."""
    import orjson

    from pipeline import audit
    from pipeline.errors import NotFound
    from pipeline.exports.annual import EXTRA, annual_figures, is_empty
    from pipeline.exports.annual_docx import write_annual_docx, write_annual_pdf

    writers = {"docx": write_annual_docx, "pdf": write_annual_pdf}
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    if as_json:
        chosen = []
    elif not chosen or any(f not in writers for f in chosen):
        raise UsageError(f"--format: choose from docx, pdf (comma-separated), not {formats!r}")

    cfg = read_config(config)
    if not 1900 <= year <= 9998:
        raise UsageError(f"--year: out of range: {year}")
    engine = open_db(db)
    try:
        figures = annual_figures(engine, year, cfg.area.tz)
        if is_empty(figures):
            empty = (f"{year}年（北京时间）没有任何可统计的事件：请检查 --db 是否指向正确的数据库、"
                     f"--year 是否写对，或先导入该年的台账（riskwatch import ledger）")
            if not as_json:
                raise NotFound(empty + "。未生成年度报告")
            typer.echo(f"警告：{empty}", err=True)
        from pipeline.commands.progress import working

        with working("正在生成年度数据文件…"):
            paths = [writers[f](figures, out / f"annual-statistics-{year}.{f}", cfg.area.name, cfg.area.street,
                                tz_name=cfg.area.timezone) for f in chosen]
        audit.record(engine, audit.cli_actor(), audit.EXPORT,
                     {"export": "annual", "year": year, "format": "json" if as_json else ",".join(chosen),
                      "files": [p.name for p in paths]})
    finally:
        engine.dispose()
    if as_json:
        shown = figures if extended else {k: v for k, v in figures.items() if k not in EXTRA}
        typer.echo(orjson.dumps(shown).decode())
    for path in paths:
        typer.echo(str(path))
