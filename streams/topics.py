"""The stream's topics: names (with the deployment's prefix), partition counts, explicit creation.

    events.raw        input (docs/contract.md §1), one event per message; producers own it
    events.dlq        rejections: reason, original bytes, source partition and offset (per message)
    events.ingested   accepted events and duplicates, batched per source partition (for the sink)
    events.by-entity  accepted events fanned out per target entity (partition = the entity's), plus
                      the ingest's progress ticks (streams/watermark.py), batched per partition
    risk.updates      contributions (with the entity's score and level) and entity records
    alerts            alert changes (raised, upgraded, attached), keyed by entity
    <prefix><app_id>-ingest-state-changelog, <prefix><app_id>-entity-state-changelog
                      compacted table changelogs (the prefix keeps deployments on one broker apart)

Every topic is created here with kafka-python's admin client before the Faust app starts, with the
configured replication and an explicit `max.message.bytes` (MAX_MESSAGE_BYTES, above every
message the worker sends and every event a producer may send, so the limit never depends on the
broker's default): the keyed topics and the changelogs cannot change their partition count
later without moving state (docs/stream.md says how to size them). `events.raw` keeps the count it
was created with (by `riskwatch produce` or an operator); events.dlq and events.ingested follow it,
so a source partition maps to the same partition number there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka import errors as kerrors
from kafka.admin import NewTopic

from pipeline.errors import DeploymentBusy, ServiceUnavailable, TopicLayoutError

INGEST_TABLE = "ingest-state"
ENTITY_TABLE = "entity-state"

CHANGELOG_CONFIG = {
    "cleanup.policy": "compact",
    # Roll segments hourly so the cleaner can compact them (it never touches the active segment).
    "segment.ms": str(3_600_000),
    "min.cleanable.dirty.ratio": "0.2",
}

# Largest message on any of a deployment's topics. The worker's own messages stay below
# streams/ingest_side.MAX_MESSAGE (batches are split) and a dead letter below ~400 KiB (a bounded copy,
# pipeline/rawcopy.py); events.raw takes producers' messages up to this size, so an oversized event
# reaches the worker and is rejected `too_large` instead of failing at the producer unseen.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
TOPIC_CONFIG = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}


@dataclass(frozen=True)
class TopicNames:
    raw: str
    dlq: str
    ingested: str
    by_entity: str
    updates: str
    alerts: str
    app_id: str
    prefix: str = ""

    @classmethod
    def make(cls, prefix: str = "", app_id: str = "riskwatch") -> TopicNames:
        return cls(
            raw=f"{prefix}events.raw",
            dlq=f"{prefix}events.dlq",
            ingested=f"{prefix}events.ingested",
            by_entity=f"{prefix}events.by-entity",
            updates=f"{prefix}risk.updates",
            alerts=f"{prefix}alerts",
            app_id=app_id,
            prefix=prefix,
        )

    def changelog(self, table: str) -> str:
        """A table's changelog topic: Faust's name for it, with the deployment's prefix."""
        return f"{self.prefix}{self.app_id}-{table}-changelog"

    @property
    def ingest_group(self) -> str:
        """The consumer group reading events.raw (streams/raw_reader.py); the Faust app's is app_id."""
        return f"{self.app_id}-ingest"

    def group_of(self, topic: str) -> str:
        return self.ingest_group if topic == self.raw else self.app_id

    @property
    def groups(self) -> tuple[str, ...]:
        """Every consumer group of the deployment."""
        return (self.ingest_group, self.app_id)

    @property
    def all_topics(self) -> tuple[str, ...]:
        """Every topic of the deployment, events.raw and the changelogs included."""
        return (*self.consumed, self.changelog(INGEST_TABLE), self.changelog(ENTITY_TABLE))

    @property
    def consumed(self) -> tuple[str, ...]:
        """Every topic the worker reads, in either group (`group_of`; status and drain checks use them)."""
        return (self.raw, *self.faust_consumed)

    @property
    def faust_consumed(self) -> tuple[str, ...]:
        """The topics the Faust app's agents read (events.raw is the ingest's, streams/raw_reader.py)."""
        return (self.by_entity, self.ingested, self.dlq, self.updates, self.alerts)


@dataclass(frozen=True)
class PartitionCounts:
    raw: int
    by_entity: int
    outputs: int


def ensure_topics(
    bootstrap: str, names: TopicNames, partitions: int, replication: int, *, timeout: float = 15.0
) -> PartitionCounts:
    """Create every missing topic; return the partition counts in force.

    events.raw keeps its count when it exists; events.dlq and events.ingested get the same count.
    by-entity, risk.updates and alerts get `partitions` when created. The changelogs get the count
    of the topic whose partitions they mirror (Faust co-partitions tables with their source).
    """
    from streams.kafka_io import _connect

    admin = _connect(KafkaAdminClient, bootstrap, None, request_timeout_ms=int(timeout * 1000))
    try:
        existing = _partition_counts(admin, [names.raw, names.by_entity])
        raw = existing.get(names.raw) or partitions
        by_entity = existing.get(names.by_entity) or partitions
        wanted = {
            names.raw: (raw, TOPIC_CONFIG),
            names.dlq: (raw, TOPIC_CONFIG),
            names.ingested: (raw, TOPIC_CONFIG),
            names.by_entity: (by_entity, TOPIC_CONFIG),
            names.updates: (partitions, TOPIC_CONFIG),
            names.alerts: (partitions, TOPIC_CONFIG),
            names.changelog(INGEST_TABLE): (raw, {**TOPIC_CONFIG, **CHANGELOG_CONFIG}),
            names.changelog(ENTITY_TABLE): (by_entity, {**TOPIC_CONFIG, **CHANGELOG_CONFIG}),
        }
        present = set(admin.list_topics())
        new = [
            NewTopic(name, num_partitions=n, replication_factor=replication, topic_configs=dict(config))
            for name, (n, config) in wanted.items()
            if name not in present
        ]
        if new:
            try:
                admin.create_topics(new, timeout_ms=int(timeout * 1000))
            except kerrors.TopicAlreadyExistsError:
                pass  # another worker created them at the same moment
        admin.wait_for_topics(list(wanted), timeout_ms=int(timeout * 1000))
        counts = _partition_counts(admin, list(wanted))
    finally:
        admin.close()
    mismatched = [
        f"{name} has {counts.get(name)} partitions, expected {n}"
        for name, (n, _) in wanted.items()
        if name not in (names.updates, names.alerts) and counts.get(name) != n
    ]
    if mismatched:
        raise TopicLayoutError("; ".join(mismatched))
    return PartitionCounts(raw=raw, by_entity=by_entity, outputs=counts.get(names.updates) or partitions)


def _partition_counts(admin: KafkaAdminClient, topics: list[str]) -> dict[str, int]:
    out = {}
    for info in admin.describe_topics(topics):
        if info.get("error_code", 0) == 0 and info.get("partitions"):
            out[info.get("name") or info.get("topic")] = len(info["partitions"])
    return out


def delete_deployment(bootstrap: str, names: TopicNames, *, timeout: float = 30.0) -> tuple[list[str], list[str]]:
    """Delete every topic and consumer group of this deployment; return (topics, groups) deleted.

    Workers must be stopped first: the broker refuses to delete a group with members (the error says
    which). Returns once the broker no longer lists the topics (deletion is asynchronous there), so a
    new deployment with the same names can start at once.
    """
    from streams.kafka_io import _connect

    admin = _connect(KafkaAdminClient, bootstrap, None, request_timeout_ms=int(timeout * 1000))
    try:
        # nothing is deleted while a worker still runs: its group has members
        for group, info in admin.describe_groups(list(names.groups)).items():
            if info.get("members"):
                raise DeploymentBusy(f"consumer group {group!r} still has {len(info['members'])} members: "
                                     "stop its workers first")
        present = set(admin.list_topics())
        topics = [t for t in names.all_topics if t in present]
        if topics:
            admin.delete_topics(topics, timeout_ms=int(timeout * 1000))
        groups = [g for g in names.groups if _delete_group(admin, g)]
        deadline = time.monotonic() + timeout
        while set(topics) & set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        admin.close()
    return topics, groups


def _delete_group(admin: KafkaAdminClient, group: str) -> bool:
    """Delete one consumer group; False when it does not exist."""
    try:
        result = admin.delete_groups([group]).get(group)     # {group: "OK" or the error's class name}
    except (kerrors.GroupIdNotFoundError, kerrors.CoordinatorNotAvailableError):
        return False        # never created, or already gone: the broker has no coordinator for it
    if result == "OK":
        return True
    if result == kerrors.GroupIdNotFoundError.__name__:
        return False
    if result == kerrors.NonEmptyGroupError.__name__:
        raise DeploymentBusy(f"consumer group {group!r} still has members: stop its workers first")
    raise ServiceUnavailable(f"consumer group {group!r} not deleted: {result}")


def delete_topics(bootstrap: str, names: TopicNames) -> None:
    """Delete every topic of this deployment, without waiting (tests)."""
    from streams.kafka_io import _connect

    admin = _connect(KafkaAdminClient, bootstrap, None)
    try:
        present = set(admin.list_topics())
        mine = [t for t in names.all_topics if t in present]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()
