"""Ledger imports inside `riskwatch serve` (docs/contract.md §10): the upload page's sink.

The events are checked by the event contract and accepted by the very accept of POST /v1/events
(pipeline/ingest/sink.py DatabaseSink: durable with their inbox rows in one transaction, then the
engine loop woken). So serve's own engine scores them with the entities' existing state, and its
alerts and absence deadlines take them into account, as `import ledger --to-kafka` hands them to the
worker. A database replay beside the running engine would score them apart and never tell it.
"""

from __future__ import annotations

from pipeline.configset import ConfigSet
from pipeline.ingest.sink import DatabaseSink
from pipeline.ledgers.importer import ContractChecked


class InboxSink(ContractChecked):
    """Every line, the stored ones too (counted as duplicates, as over HTTP), in one accept."""

    def __init__(self, accept: DatabaseSink, cfg: ConfigSet):
        super().__init__(cfg)
        self.accept = accept

    def write(self, lines: list[bytes], known: set[str]) -> None:
        self.accept.accept_now(self.events(lines))
