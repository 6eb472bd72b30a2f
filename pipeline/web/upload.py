"""Ledger upload in the analyst's workspace (docs/contract.md §10).

    GET  /w/ledgers             choose the ledger kind and the file
    POST /w/ledgers/check       multipart: csrf, kind, file -> the dry-run report in Chinese (rows,
                                events, new events, every bad row with sheet / row / column / reason)
    POST /w/ledgers/import      csrf, upload (the checked file's id), skip_bad -> import, the report

The file is read once: after the check it waits in memory (at most MAX_WAITING files, each for
WAIT_S, bound to the session that uploaded it) until it is imported or dropped. The body limit of
/w/ledgers is the `upload_limit` setting (guard.BodyLimit, before anything is read), and only a
live workspace session gets its body read at all (guard.AuthFirst). Importing calls the ledgers
core (pipeline.ledgers.importer.import_ledger), the same as `riskwatch import ledger`, with the sink
the deployment gives (`riskwatch serve`: its own accept path; none: a database replay); each import
is audited (`ledger_import`: who, kind, counts, the file's hash — never its name or cells).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from pipeline import audit, labels
from pipeline.errors import UsageError
from pipeline.ledgers.importer import ImportReport, LedgerSink, import_ledger
from pipeline.web.site import Visitor

if TYPE_CHECKING:
    from pipeline.web.workspace import Workspace

MAX_WAITING = 8
WAIT_S = 1800
SUFFIXES = (".xlsx", ".xlsm", ".csv")
AUDIT_IMPORT = "ledger_import"


@dataclass(frozen=True)
class Waiting:
    session: str
    kind: str
    filename: str
    data: bytes
    at: datetime


class Uploads:
    """Checked files waiting to be imported (in memory, a few, briefly)."""

    def __init__(self) -> None:
        self.files: dict[str, Waiting] = {}
        self.lock = threading.Lock()

    def keep(self, item: Waiting) -> str:
        key = secrets.token_urlsafe(16)
        with self.lock:
            self.drop_old(item.at)
            while len(self.files) >= MAX_WAITING:
                self.files.pop(min(self.files, key=lambda k: self.files[k].at))
            self.files[key] = item
        return key

    def take(self, key: str, session: str, now: datetime) -> Waiting | None:
        with self.lock:
            self.drop_old(now)
            item = self.files.get(key)
            if item is None or item.session != session:
                return None
            return self.files.pop(key)

    def drop_old(self, now: datetime) -> None:
        for key in [k for k, v in self.files.items() if now - v.at > timedelta(seconds=WAIT_S)]:
            del self.files[key]


def report_view(report: ImportReport) -> dict[str, Any]:
    return {"kind": labels.label(labels.LEDGER_KINDS, report.kind), "sheet": report.sheet, "rows": report.rows,
            "events": report.events, "new": report.new, "existing": report.existing, "skipped": report.skipped,
            "refused": report.refused, "dry_run": report.dry_run,
            "errors": [{"sheet": e.sheet, "row": e.row, "column": e.column, "reason": e.reason} for e in report.errors]}


class UploadPages:
    def __init__(self, ws: Workspace, sink: LedgerSink | None = None):
        self.ws, self.site = ws, ws.site
        self.sink = sink
        self.uploads = Uploads()

    def form(self, request: Request, status: int = 200, error: str | None = None,
             visitor: Visitor | None = None) -> Response:
        visitor = visitor or self.ws.visitor(request)
        return self.ws.render("workspace/ledgers.html", visitor, status, error=error, kinds=labels.LEDGER_KINDS,
                              form=self.site.csrf(visitor.binding, "ledgers"))

    def check(self, request: Request, csrf: str | None, kind: str, filename: str, data: bytes) -> Response:
        visitor = self.ws.visitor(request)
        self.site.check_form(request, visitor.binding, "ledgers", csrf)
        if kind not in labels.LEDGER_KINDS:
            return self.form(request, 422, "请选择台账类型。", visitor)
        name = PurePath(filename or "").name
        if not data or PurePath(name).suffix.lower() not in SUFFIXES:
            return self.form(request, 422, "请选择 .xlsx 或 .csv 格式的台账文件。", visitor)
        # the good rows counted as if imported (new events among them), the bad rows listed
        report = self.run(visitor, kind, name, data, dry_run=True, skip_bad=True)
        if isinstance(report, Response):
            return report
        key = self.uploads.keep(Waiting(visitor.session.sid, kind, name, data, self.site.clock()))
        return self.ws.render("workspace/ledger_report.html", visitor, report=report_view(report), upload=key,
                              filename=name, form=self.site.csrf(visitor.binding, "ledgers"))

    def do_import(self, request: Request, csrf: str | None, upload: str, skip_bad: bool) -> Response:
        visitor = self.ws.visitor(request)
        self.site.check_form(request, visitor.binding, "ledgers", csrf)
        waiting = self.uploads.take(upload, visitor.session.sid, self.site.clock())
        if waiting is None:
            return self.form(request, 410, "上传的文件已过期或已导入，请重新上传。", visitor)
        report = self.run(visitor, waiting.kind, waiting.filename, waiting.data, dry_run=False, skip_bad=skip_bad)
        if isinstance(report, Response):
            return report
        if not report.refused:
            # counts and the file's hash only: a ledger's name and cells may name people
            audit.record(self.site.engine, visitor.principal.actor, AUDIT_IMPORT, {
                "kind": waiting.kind, "file_sha256_prefix": hashlib.sha256(waiting.data).hexdigest()[:12],
                "rows": report.rows, "events": report.events, "new": report.new, "skipped_rows": report.skipped,
            }, at=self.site.clock())
        return self.ws.render("workspace/ledger_report.html", visitor, report=report_view(report), upload=None,
                              filename=waiting.filename, form=self.site.csrf(visitor.binding, "ledgers"))

    def run(self, visitor: Visitor, kind: str, name: str, data: bytes, *, dry_run: bool,
            skip_bad: bool) -> ImportReport | Response:
        try:
            return import_ledger(data, name, kind, cfg=self.site.config, engine=self.site.engine,
                                 actor=visitor.principal.actor, dry_run=dry_run, skip_bad=skip_bad,
                                 sink=self.sink, now=self.site.clock().timestamp())
        except UsageError as exc:      # an unreadable file: the message is Chinese (pipeline.ledgers.sheets)
            return self.ws.render("workspace/ledgers.html", visitor, 422, error=f"文件无法导入：{exc}",
                                  kinds=labels.LEDGER_KINDS, form=self.site.csrf(visitor.binding, "ledgers"))


def mount_upload(app: FastAPI, ws: Workspace, upload_limit: int, sink: LedgerSink | None = None) -> UploadPages:
    pages = UploadPages(ws, sink)
    site = ws.site
    app.state.guards.limit("/w/ledgers", upload_limit)
    router = APIRouter(include_in_schema=False)

    @router.get("/w/ledgers", response_class=HTMLResponse)
    def form(request: Request) -> Response:
        return site.guarded(lambda: pages.form(request), login_redirect=True)

    @router.post("/w/ledgers/check", response_class=HTMLResponse)
    async def check(request: Request, csrf: str = Form("", max_length=100), kind: str = Form("", max_length=32),
                    file: UploadFile = File(...)) -> Response:
        data = await file.read()
        return site.guarded(lambda: pages.check(request, csrf, kind, file.filename or "", data))

    @router.post("/w/ledgers/import", response_class=HTMLResponse)
    def do_import(request: Request, csrf: str = Form("", max_length=100), upload: str = Form("", max_length=64),
                  skip_bad: bool = Form(False)) -> Response:
        return site.guarded(lambda: pages.do_import(request, csrf, upload, skip_bad))

    app.include_router(router)
    return pages

