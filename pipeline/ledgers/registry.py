"""The ledger kinds `riskwatch import ledger --kind` accepts, in one explicit table."""

from __future__ import annotations

from pipeline.ledgers.base import LedgerKind
from pipeline.ledgers.kinds import disputes, hazards, inspections, patrols, penalties, petitions, publicity, tasks

KINDS: dict[str, LedgerKind] = {
    kind.key: kind
    for kind in (disputes.KIND, hazards.KIND, patrols.KIND, inspections.KIND, penalties.KIND, publicity.KIND,
                 petitions.KIND, tasks.KIND)
}
