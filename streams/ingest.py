"""Ingest: events.raw -> contract check, de-duplication, fan-out per target entity.

For each message (source partition p, offset o) in offset order:
- the contract (pipeline/contract.py; future_timestamp against the wall clock in every clock mode)
  rejects it -> one events.dlq message (reason, original bytes, p, o);
- its event_id was accepted before at another position -> a duplicate (counted and stored, never
  scored); at the SAME position it is the same message delivered again after a crash, and it is
  processed again, idempotently;
- otherwise it is accepted: stored (events.ingested) and sent to events.by-entity once per target
  entity (pipeline/engine/targets.py), to the entity's partition, with t, p and o.

Accepted ids live in the `ingest-state` table (changelog-backed, co-partitioned with events.raw):
one value per processed batch and partition, {"t": greatest occurred_at, "ids": {event_id: offset}},
dropped once older than the dedupe window (event time), plus "m:<p>": the greatest occurred_at
accepted from p. Duplicates are recognised within a partition, or across partitions this worker
owns; `riskwatch produce` puts copies of an event on one partition (docs/stream.md).

This module is transport-free: streams/app.py feeds it Faust's messages and sends what it returns.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.configset import ConfigSet
from pipeline.contract import Rejection, parse_event
from pipeline.engine.targets import all_targets
from streams import codec
from streams.partitioning import EntityPartitioner

log = logging.getLogger("riskwatch.stream.ingest")

PRUNE_EVERY = 86400.0   # event-time seconds between two prunings of a partition's remembered ids


@dataclass
class IngestOutput:
    by_entity: dict[int, list] = field(default_factory=lambda: defaultdict(list))   # P -> records
    ingested: dict[int, dict] = field(default_factory=dict)                        # p -> {"e": [], "d": []}
    dlq: list[tuple[int, bytes]] = field(default_factory=list)                     # (p, value)
    state: list[tuple[int, bytes, bytes | None]] = field(default_factory=list)     # (p, key, value|None)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0

    def ingested_for(self, p: int) -> dict:
        out = self.ingested.get(p)
        if out is None:
            out = self.ingested[p] = {"p": p, "e": [], "d": []}
        return out


class Ingest:
    # `clock` (event or wall) is the scorers' business: the contract's future_timestamp check runs
    # against the wall clock in either mode, so ingest treats both alike.
    def __init__(
        self,
        cfg: ConfigSet,
        raw_topic: str,
        entity_partitions: int,
        *,
        clock: str = "event",
        max_skew: float = 300.0,
        dedupe_window: float = 30 * 86400.0,
    ):
        self.vocab = cfg.vocabulary
        self.rules = cfg.rules
        self.raw_topic = raw_topic
        self.partition_of = EntityPartitioner(entity_partitions)
        self.max_skew = max_skew
        self.dedupe_window = dedupe_window
        self.seen: dict[str, tuple[int, int]] = {}
        self.batches: dict[int, dict[bytes, tuple[float, list[str]]]] = defaultdict(dict)
        self.max_t: dict[int, float] = {}        # durable: greatest occurred_at accepted per partition
        self.sent_t: dict[int, float] = {}       # this session: greatest occurred_at sent per partition
        self.next_offset: dict[int, int] = {}    # this session: next offset to process per partition
        self._last_prune: dict[int, float] = {}
        self._relevant: dict[tuple[str, str], list] = {}
        self.loaded: set[int] = set()

    # -- state -----------------------------------------------------------------------------------

    def restore(self, p: int, items) -> None:
        """Adopt partition p's ingest-state entries ((key, value) bytes, from the table)."""
        prefix = b"s:%d:" % p
        for key, value in items:
            if key.startswith(prefix):
                data = codec.loads(value)
                ids = data["ids"]
                for eid, offset in ids.items():
                    self.seen[eid] = (p, offset)
                self.batches[p][key] = (data["t"], list(ids))
            elif key == b"m:%d" % p:
                self.max_t[p] = codec.loads(value)["t"]
        self.loaded.add(p)

    def forget(self, p: int) -> None:
        """Partition p went to another worker: drop what this one knew of it."""
        for _, ids in self.batches.pop(p, {}).values():
            for eid in ids:
                if self.seen.get(eid, (None,))[0] == p:
                    del self.seen[eid]
        for d in (self.max_t, self.sent_t, self.next_offset, self._last_prune):
            d.pop(p, None)
        self.loaded.discard(p)

    # -- processing --------------------------------------------------------------------------------

    def process(self, messages, now: float | None = None) -> IngestOutput:
        """messages: (source partition, offset, raw bytes) in offset order per partition."""
        out = IngestOutput()
        new_ids: dict[int, dict[str, int]] = {}
        new_t: dict[int, float] = {}
        seen = self.seen
        vocab, max_skew = self.vocab, self.max_skew
        relevant, partition_of = self._relevant, self.partition_of
        by_entity = out.by_entity
        for p, offset, raw in messages:
            self.next_offset[p] = offset + 1
            if raw is None:
                raw = b""
            parsed = parse_event(raw, vocab, now=now, max_skew=max_skew)
            if isinstance(parsed, Rejection):
                out.rejected += 1
                out.dlq.append((p, codec.dlq_value(raw, parsed.reason, parsed.detail, parsed.event_id,
                                                   self.raw_topic, p, offset)))
                log.info("rejected", extra={"event_id": parsed.event_id, "reason": parsed.reason,
                                            "partition": p, "offset": offset})
                continue
            eid = parsed.event_id
            first = seen.get(eid)
            if first is not None and first != (p, offset):
                out.duplicates += 1
                out.ingested_for(p)["d"].append([eid, offset, first[0], first[1]])
                log.info("duplicate", extra={"event_id": eid, "partition": p, "offset": offset,
                                             "first_partition": first[0], "first_offset": first[1]})
                continue
            if first is None:
                seen[eid] = (p, offset)
                new_ids.setdefault(p, {})[eid] = offset
            t, doc = parsed.t, parsed.doc
            out.accepted += 1
            out.ingested_for(p)["e"].append([t, offset, doc])
            kind_type = (parsed.kind, parsed.type)
            rules = relevant.get(kind_type)
            if rules is None:
                rules = relevant[kind_type] = self.rules.relevant(*kind_type)
            if rules:
                for ref in all_targets(rules, parsed):
                    by_entity[partition_of(ref)].append([ref, t, p, offset, doc])
            if t > new_t.get(p, float("-inf")):
                new_t[p] = t
        for p, t in new_t.items():
            if t > self.sent_t.get(p, float("-inf")):
                self.sent_t[p] = t
            if t > self.max_t.get(p, float("-inf")):
                self.max_t[p] = t
                out.state.append((p, b"m:%d" % p, codec.dumps({"t": t})))
        for p, ids in new_ids.items():
            key = b"s:%d:%d" % (p, min(ids.values()))
            batch_t = new_t.get(p, self.max_t.get(p, 0.0))
            self.batches[p][key] = (batch_t, list(ids))
            out.state.append((p, key, codec.dumps({"t": batch_t, "ids": ids})))
        for p in new_t:
            self._prune(p, out)
        return out

    def _prune(self, p: int, out: IngestOutput) -> None:
        """Forget ids accepted more than the dedupe window (event time) before p's latest event."""
        latest = self.max_t.get(p)
        if latest is None or latest - self._last_prune.get(p, float("-inf")) < PRUNE_EVERY:
            return
        self._last_prune[p] = latest
        horizon = latest - self.dedupe_window
        batches = self.batches[p]
        for key in [k for k, (t, _) in batches.items() if t < horizon]:
            _, ids = batches.pop(key)
            for eid in ids:
                if self.seen.get(eid, (None,))[0] == p:
                    del self.seen[eid]
            out.state.append((p, key, None))

    # -- progress ----------------------------------------------------------------------------------

    def tick(self, p: int, caught_up: bool) -> list:
        """Progress of source partition p for the watermark (streams/watermark.py)."""
        return [p, self.sent_t.get(p), 1 if caught_up else 0, self.max_t.get(p)]
