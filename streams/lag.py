"""Consumer-group positions against the topics' ends (kafka-python admin): `riskwatch status` and the
worker's `--until-drained` check read them the same way."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from streams.kafka_io import _connect


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None   # the group's committed next offset (None: never committed)
    begin: int
    end: int

    @property
    def lag(self) -> int:
        return self.end - max(self.committed or 0, self.begin)


class LagReader:
    """Reuses one admin client and one (group-less) consumer across reads. `group_of` names the
    consumer group whose committed offsets count for a topic."""

    def __init__(self, bootstrap: str, group_of: Callable[[str], str]):
        self.bootstrap = bootstrap
        self.group_of = group_of
        self._admin = _connect(KafkaAdminClient, bootstrap, None)
        self._consumer = _connect(KafkaConsumer, bootstrap, None, group_id=None, enable_auto_commit=False,
                                  client_id=f"riskwatch-lag-{uuid.uuid4().hex[:8]}")

    def read(self, topics) -> list[PartitionLag]:
        tps = []
        for topic in topics:
            parts = self._consumer.partitions_for_topic(topic) or set()
            tps += [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return []
        committed = {}
        for group in sorted({self.group_of(tp.topic) for tp in tps}):
            mine = [tp for tp in tps if self.group_of(tp.topic) == group]
            committed.update(self._admin.list_group_offsets({group: mine}).get(group, {}))
        begin = self._consumer.beginning_offsets(tps)
        end = self._consumer.end_offsets(tps)
        out = []
        for tp in tps:
            meta = committed.get(tp)
            offset = meta.offset if meta is not None and meta.offset is not None and meta.offset >= 0 else None
            out.append(PartitionLag(tp.topic, tp.partition, offset, begin[tp], end[tp]))
        return out

    def close(self) -> None:
        self._admin.close()
        self._consumer.close()
