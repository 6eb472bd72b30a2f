"""The notifier: one pass = escalate, resolve, plan, deliver; `run` repeats passes until stopped.

Every pass reads its time from `clock()` (injected: tests drive escalation with a fake clock) and
sleeps through `sleep` (retries within a pass). Groups of different leaders/channels are sent in
parallel threads; each group's outcome is stored as soon as it is known. On PostgreSQL a session
advisory lock makes one notifier work at a time when several workers run one each; the others'
passes do nothing. The notice log in the database is the only state: a restart carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from pipeline.alerting import actions
from pipeline.alerting.escalation import due_escalations
from pipeline.alerting.records import HISTORY, get_alert, latest_place, top_contributions
from pipeline.alerting.resolution import current_score, due_resolutions
from pipeline.configset import ConfigSet
from pipeline.notify import outbox
from pipeline.notify.channels import CHANNELS
from pipeline.notify.channels.base import Channel, Context
from pipeline.notify.config import ChannelsConfig, leaders_without_channel
from pipeline.notify.delivery import Outcome, RetryPolicy, deliver
from pipeline.notify.notices import Notice, Reason, Renderer
from pipeline.notify.split import Part, split
from pipeline.timeutil import aware

log = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x7269736B6E6F7469  # "risknoti"


@dataclass
class PassReport:
    escalated: int = 0
    resolved: int = 0
    planned: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0              # may have been delivered (a robot's late reply): not resent
    skipped: bool = False           # another notifier held the lock
    errors: list[str] = field(default_factory=list)


class Notifier:
    def __init__(
        self,
        engine: sa.Engine,
        config: ConfigSet,
        channels: ChannelsConfig,
        *,
        grafana_url: str,
        timezone: str = "Asia/Shanghai",
        env: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy = RetryPolicy(),
        max_age: timedelta = timedelta(days=7),
        http: httpx.Client | None = None,
        workers: int = 4,
        alert_link: Callable[[str, str], str | None] | None = None,
    ):
        import os

        self.engine = engine
        self.config = config
        self.channels = channels
        self.clock = clock
        self.sleep = sleep
        self.policy = policy
        self.max_age = max_age
        self.workers = workers
        env = dict(os.environ) if env is None else env
        self._own_http = http is None
        self.http = http or httpx.Client(headers={"User-Agent": "riskwatch-notifier"})
        smtp = channels.smtp.resolved(env) if channels.smtp is not None else None
        self.ctx = Context(self.http, env, smtp, channels.timeout, robot_timeout=channels.robot_timeout)
        self.titles = {r.id: r.title for r in config.rules.rules}
        self.renderer = Renderer(
            grafana_url=grafana_url,
            leader_names={lid: leader.name for lid, leader in config.assignments.leaders.items()},
            timezone=timezone,
            alert_level=config.rules.alert_level,
            alert_link=alert_link,
            area=config.area,
        )
        self._channels: dict[tuple[str, str], Channel] = {}
        for leader_id, specs in channels.by_leader.items():
            for spec in specs:
                self._channels[(leader_id, spec.id)] = CHANNELS[spec.type](spec.options, self.ctx)
        self.unreachable = leaders_without_channel(channels, config.assignments)
        self._warn_unreachable()

    def _warn_unreachable(self) -> None:
        """A leader without a channel hears nothing until an escalation reaches someone else: say so at
        start and on every pass (`riskwatch notify --check` lists them)."""
        if self.unreachable:
            log.warning("no channel in %s for leader(s) %s: their notices cannot be delivered and count as failed",
                        self.channels.source or "channels.yaml", ", ".join(self.unreachable))

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    # -- one pass ------------------------------------------------------------------------------

    def run_once(self, flush: bool = False) -> PassReport:
        report = PassReport()
        with self._single_notifier() as mine:
            if not mine:
                report.skipped = True
                return report
            now = self.clock()
            self._warn_unreachable()
            self._escalate(now, report)
            self._resolve(now, report)
            with self.engine.begin() as conn:
                report.planned, unreachable = outbox.plan(conn, self.channels, now, self.max_age)
            report.failed += unreachable
            if unreachable:
                report.errors.append(f"{unreachable} notice(s) for leaders without a channel: "
                                     + ", ".join(self.unreachable))
            with self.engine.begin() as conn:
                groups = outbox.claim(conn, now, self.channels.group_wait, flush)
            self._deliver(groups, report)
        return report

    def _escalate(self, now: datetime, report: PassReport) -> None:
        """Escalations carry the time they fell due, on the alert's own time basis, and the score then:
        an alert replayed from last year escalates in its history but is older than max_age, so it
        pages nobody (and is never announced with a score decayed to 0 by now)."""
        with self.engine.connect() as conn:
            due = due_escalations(conn, self.config.assignments, now)
            scores = {(e.alert.alert_id, e.step): current_score(conn, e.alert.entity, e.due) for e in due}
        for e in due:
            try:
                actions.escalate(self.engine, e.alert.alert_id, e.to, e.step, e.due,
                                 scores[(e.alert.alert_id, e.step)], e.timeout_s)
                report.escalated += 1
                log.info("alert %s escalated to %s (step %d)", e.alert.alert_id, e.to, e.step)
            except actions.InvalidTransition:
                pass  # acknowledged or closed meanwhile: nothing to escalate

    def _resolve(self, now: datetime, report: PassReport) -> None:
        with self.engine.connect() as conn:
            due = due_resolutions(conn, self.config.rules, now)
        for r in due:
            try:
                actions.resolve(self.engine, r.alert.alert_id, now, r.score, self.config.rules.alert_level,
                                self.config.assignments)
                report.resolved += 1
                log.info("alert %s resolved (score %.2f)", r.alert.alert_id, r.score)
            except actions.InvalidTransition:
                pass

    def _deliver(self, groups: list[outbox.Group], report: PassReport) -> None:
        if not groups:
            return
        jobs: list[tuple[outbox.Group, Part]] = []
        purged: list[outbox.Group] = []
        with self.engine.connect() as conn:
            for g in groups:
                parts, gone = self._parts(conn, g)
                jobs += [(g, part) for part in parts]
                if gone:
                    purged.append(replace(g, rows=gone))
        for g in purged:   # written after the read is closed (SQLite: one writer, no open reader)
            with self.engine.begin() as write:
                outbox.record(write, g, self.clock(), ok=False, attempts=0,
                              error="the alert or its change was purged before the notice went out")
            report.failed += len(g.rows)

        def send(job: tuple[outbox.Group, Part]) -> tuple[outbox.Group, Part, Outcome]:
            group, part = job
            channel = self._channels.get((group.leader_id, group.channel))
            if channel is None:
                return group, part, Outcome(False, 1, f"channel {group.channel} of {group.leader_id} is no longer "
                                                      "configured", permanent=True)
            previous = max(r.attempts for r in part.rows)
            attempts = 0
            for message in part.messages:   # a notice is sent only when every piece of it went out
                outcome = deliver(channel, message, self.policy, previous, self.sleep)
                attempts += outcome.attempts
                if not outcome.ok:
                    return group, part, replace(outcome, attempts=attempts)
            return group, part, Outcome(True, attempts)

        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(jobs)))) as pool:
            for group, part, outcome in pool.map(send, jobs):
                now = self.clock()
                retry_at = None
                if not outcome.ok and not outcome.permanent:
                    first = min(r.created_at for r in part.rows)
                    if (now - first).total_seconds() < self.policy.give_up_after:
                        retry_at = now + timedelta(seconds=outcome.wait)
                with self.engine.begin() as conn:
                    status = outbox.record(conn, outbox.Group(part.id, group.leader_id, group.channel, part.rows),
                                           now, ok=outcome.ok, error=outcome.error, attempts=outcome.attempts,
                                           retry_at=retry_at, uncertain=outcome.uncertain)
                n = len(part.rows)
                if status == "sent":
                    report.sent += n
                elif status == "uncertain":
                    report.uncertain += n
                    report.errors.append(outcome.error or "")
                elif status == "pending":
                    report.retrying += n
                    report.errors.append(outcome.error or "")
                else:
                    report.failed += n
                    report.errors.append(outcome.error or "")

    def _parts(self, conn: sa.Connection, group: outbox.Group) -> tuple[list[Part], tuple[outbox.Row, ...]]:
        """The group's notices as messages its channel takes whole, and the rows whose alert is gone."""
        history = {
            r.id: r for r in conn.execute(sa.select(HISTORY).where(HISTORY.c.id.in_([x.history_id for x in group.rows])))
        }
        items, gone = [], []
        for row in sorted(group.rows, key=lambda x: (aware(history[x.history_id].at), x.history_id)
                          if x.history_id in history else (x.created_at, x.history_id)):
            h = history.get(row.history_id)
            alert = get_alert(conn, row.alert_id)
            if h is None or alert is None:
                gone.append(row)  # purged meanwhile
                continue
            items.append((row, self._notice(conn, row, h, alert)))
        channel = self._channels.get((group.leader_id, group.channel))
        limit = channel.max_bytes if channel is not None else None
        parts = split(lambda mid, notices: self.renderer.message(mid, group.leader_id, notices),
                      group.message_id, items, limit)
        return parts, tuple(gone)

    def _notice(self, conn: sa.Connection, row: outbox.Row, h, alert) -> Notice:
        detail = dict(h.detail or {})
        at = aware(h.at)
        reasons = tuple(Reason(self.titles.get(rule, rule), value, fired)
                        for rule, value, fired in top_contributions(conn, alert.entity, at))
        extra = {}
        if row.kind == "escalated":
            extra = {"to": detail.get("to"), "step": detail.get("step")}
        elif row.kind == "closed":
            extra = {"reason": detail.get("reason", ""), "actor": h.actor}
        score = detail.get("score", alert.score)
        return Notice(row.kind, alert.alert_id, alert.entity, h.level, None if score is None else float(score), at,
                      alert.assignee, reasons, extra, building=alert.building,
                      place=latest_place(conn, alert.entity, at))

    # -- the loop ------------------------------------------------------------------------------

    def run(self, interval: float, stop: threading.Event) -> None:
        """Passes every `interval` seconds until `stop` is set (SIGTERM). A failing pass (database
        away) is logged and tried again next time: nothing is lost, the log is in the database."""
        while not stop.is_set():
            try:
                report = self.run_once()
                if report.escalated or report.resolved or report.sent or report.failed or report.retrying:
                    log.info("notifier pass: %s", report)
            except Exception as exc:  # noqa: BLE001 - the loop must survive a pass that failed
                log.error("notifier pass failed: %s: %s", type(exc).__name__, exc)
            stop.wait(interval)

    # -- one notifier at a time ----------------------------------------------------------------

    def _single_notifier(self):
        return _AdvisoryLock(self.engine) if self.engine.dialect.name == "postgresql" else _NoLock()


class _NoLock:
    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc) -> None:
        return None


class _AdvisoryLock:
    def __init__(self, engine: sa.Engine):
        self.engine, self.held = engine, False
        self.conn: sa.Connection | None = None

    def __enter__(self) -> bool:
        conn = self.conn = self.engine.connect()
        self.held = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar())
        conn.commit()
        return self.held

    def __exit__(self, *exc) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            if self.held:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()
        finally:
            conn.close()

