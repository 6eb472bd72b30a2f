"""`riskwatch import ledger FILE --kind KIND ...` and `riskwatch import template --kind KIND`
(docs/contract.md §10). The work is pipeline.ledgers.importer.import_ledger; this module reads the
file, picks the destination (database or Kafka events.raw), prints the report and writes the errors
workbook of --skip-bad."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

from pipeline.commands.access import DbOpt
from pipeline.commands.common import ConfigDirOpt

import_app = typer.Typer(help="Import the street's ledgers (台账) as events; blank ledger templates.",
                         no_args_is_help=True)

KindOpt = Annotated[str, typer.Option("--kind", help="disputes, hazards, patrols, inspections, penalties, "
                                                     "publicity, petitions or tasks")]


@import_app.command("ledger")
def ledger_command(
    file: Annotated[Path, typer.Argument(help="The ledger: .xlsx, or .csv in UTF-8 or GB18030")],
    kind: KindOpt,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="Worksheet to read (default: the first "
                                                                 "holding the ledger's header)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count; write nothing")] = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Import the good rows; bad ones go to "
                                                              "<name>.errors.xlsx beside the file")] = False,
    db: DbOpt = None,
    to_kafka: Annotated[bool, typer.Option("--to-kafka", help="Send the events to Kafka events.raw instead of "
                                                              "the database (the registry stays in the database)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object")] = False,
    config: ConfigDirOpt = None,
) -> None:
    """Turn every row of a ledger into events (source: ledger). A file with any bad row imports nothing
    and exits 2, every bad row listed, unless --skip-bad."""
    from pipeline import audit
    from pipeline.commands.access import open_db
    from pipeline.configset import load_config
    from pipeline.errors import UsageError
    from pipeline.ledgers.importer import LedgerRefused, ReplaySink, import_ledger
    from pipeline.settings import load_settings

    if db and to_kafka:
        raise UsageError("--db 与 --to-kafka 只能选一个：事件写入数据库或发往 Kafka")
    if not file.is_file():
        raise UsageError(f"找不到文件 {file}")
    settings = load_settings()
    cfg = load_config(config)
    from pipeline.commands.progress import working

    engine = open_db(db)
    try:
        with working(f"正在导入 {file.name}…"):
            report = import_ledger(
                file.read_bytes(), file.name, kind, cfg=cfg, engine=engine, actor=audit.cli_actor(), sheet=sheet,
                dry_run=dry_run, skip_bad=skip_bad,
                sink=kafka_sink(settings, cfg) if to_kafka else ReplaySink(engine, cfg),
                max_skew=settings.clock_skew_seconds,
            )
    finally:
        engine.dispose()
    errors_file = None
    if skip_bad and report.bad_rows and not dry_run and not report.refused:
        from pipeline.ledgers.workbook import errors_workbook

        errors_file = file.with_name(f"{file.stem}.errors.xlsx")
        errors_file.write_bytes(errors_workbook(report.sheet, report.header, report.bad_rows, report.errors))
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(report.as_json()) + b"\n")
        sys.stdout.flush()
    else:
        _print(report, errors_file)
    if report.refused:
        raise LedgerRefused(f"台账有 {report.skipped} 行错误（共 {len(report.errors)} 处），未导入任何数据；"
                            "改正后重新导入，或用 --skip-bad 只导入无误的行")


def _print(report, errors_file: Path | None) -> None:
    from pipeline.labels import LEDGER_KINDS

    verb = "检查" if report.dry_run or report.refused else "导入"
    typer.echo(f"{LEDGER_KINDS.get(report.kind, report.kind)}（工作表“{report.sheet}”）{verb}结果：")
    typer.echo(f"  数据行 {report.rows} 行，生成事件 {report.events} 条（新增 {report.new} 条，"
               f"已存在 {report.existing} 条），有误未导入 {report.skipped} 行")
    if report.dry_run:
        typer.echo("  试运行：未写入任何数据")
    elif report.refused:
        typer.echo("  文件有误：未导入任何数据")
    for error in report.errors:
        typer.echo(f"  {error}")
    if errors_file is not None:
        typer.echo(f"  有误的行已写入 {errors_file}")


def kafka_sink(settings, cfg):
    """Deliver to events.raw, partitioned by occurred_at as `riskwatch produce` does (docs/stream.md);
    also the upload page's sink under `riskwatch serve --kafka`."""
    from pipeline.ledgers.importer import DeliverSink
    from streams.kafka_io import create_topic, produce_lines
    from streams.partitioning import OccurredAtPartitioner
    from streams.topics import TopicNames

    def deliver(lines: list[bytes]) -> None:
        topic = TopicNames.make(settings.topic_prefix).raw
        partitions = create_topic(settings.kafka_bootstrap, topic, settings.topic_partitions,
                                  settings.topic_replication)
        produce_lines(settings.kafka_bootstrap, topic, lines, partition_fn=OccurredAtPartitioner(partitions))

    return DeliverSink(cfg, deliver)


@import_app.command("template")
def template_command(
    kind: KindOpt,
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write (default: <ledger title>.xlsx "
                                                              "in the current directory)")] = None,
) -> None:
    """Write a blank .xlsx of a ledger (title, format hints, header) that `import ledger` accepts filled in."""
    from pipeline.errors import UsageError
    from pipeline.labels import LEDGER_KINDS
    from pipeline.ledgers.registry import KINDS
    from pipeline.ledgers.workbook import template

    if kind not in KINDS:
        raise UsageError(f"未知的台账种类“{kind}”：应为 {'、'.join(KINDS)} 之一")
    path = out or Path(f"{LEDGER_KINDS[kind]}.xlsx")
    path.write_bytes(template(KINDS[kind]))
    typer.echo(f"已写入空白台账模板 {path}")
