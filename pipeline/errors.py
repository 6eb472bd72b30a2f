"""Every error riskwatch raises on purpose, in one tree; each class carries its exit code and HTTP status.

The CLI (pipeline/cli.py) turns any RiskwatchError into one line on stderr and the class's exit code;
the API and the pages turn it into the class's HTTP status. Nothing else converts errors, so a new
error only has to pick its place here.

    RiskwatchError                  exit 1  500   a failure of riskwatch itself
    ├── UsageError                  exit 2  422   a bad command line or input value
    │   ├── NaiveTimestamp                        a timestamp without a UTC offset
    │   ├── InvalidPersonId                       a person id that is not a pseudonymous key
    │   └── MacroError                            a Grafana macro Grafana would refuse
    ├── ConfigError                 exit 2  500   a refused configuration, every problem as a ConfigIssue
    ├── ServiceUnavailable          exit 2  503   a service does not answer
    │   ├── StorageUnavailable                    the database
    │   └── KafkaUnavailable                      the broker
    ├── SetupError                  exit 2  503   something the operator must provide or prepare first
    │   ├── SchemaOutdated                        the database is not at the migration head
    │   ├── DatabaseMissing                       a SQLite file `riskwatch db upgrade` has not created
    │   ├── UnknownTopic                          a Kafka topic that was never created
    │   ├── TopicLayoutError                      existing topics whose partition counts do not fit
    │   ├── RegistryKeyError                      no usable persons-registry key in the environment
    │   ├── LinkSecretMissing                     the alert-link secret is unset or too weak
    │   └── FontNotFound                          no CJK font on this machine
    ├── NotFound                    exit 3  404   the thing named does not exist
    │   └── AlertNotFound
    ├── NotPermitted                exit 4  403   the caller may not do this
    │   ├── AccessDenied                  401     token missing, unknown, revoked or expired
    │   │   └── PurposeRequired           403     a reveal without a stated purpose
    │   ├── Forbidden                             the principal may not act on this alert
    │   └── LinkRefused                           a leader's link that may not be used
    ├── Conflict                    exit 5  409   the current state does not allow it
    │   ├── InvalidTransition                     e.g. acknowledging a closed alert
    │   └── DeploymentBusy                        removing a stream deployment whose workers run
    └── DeliveryError               exit 1  502   a notice did not go out
        ├── Transient                             worth retrying
        ├── Permanent                             not worth retrying
        └── Uncertain                             may have gone out (a robot's late reply): not resent

Exit 2 is what the README promises for a bad command line, a refused configuration and an
unreachable service; the operator's setup (keys, secrets, schema, topics, fonts) belongs with them
because the remedy is the same: fix the environment and run again. 3, 4 and 5 let scripts tell
"nothing there", "not allowed" and "not now" apart. `label` is the Chinese word an officer reads.

UsageError, NotFound and InvalidTransition keep a built-in base (ValueError, LookupError), so the
core can raise them where callers have always caught the built-in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from pipeline.config_errors import ConfigIssue


class RiskwatchError(Exception):
    """Base of every error riskwatch raises on purpose. `str()` is one line, without secrets."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    label: ClassVar[str] = "运行出错"


class UsageError(RiskwatchError, ValueError):
    """A bad command-line option or input value; the message names the option or field. A ValueError
    too, so the core can raise it where callers have always caught ValueError for bad input."""

    exit_code = 2
    http_status = 422
    label = "输入有误"


class NaiveTimestamp(UsageError):
    """A timestamp without a UTC offset."""


class InvalidPersonId(UsageError, ValueError):
    """A person id that is not a pseudonymous key (a name or phone number given as an id)."""


class MacroError(UsageError):
    """A macro Grafana would refuse (unknown name, missing argument, bad interval)."""


class ConfigError(RiskwatchError):
    """A refused configuration; `issues` lists every problem found (file and key), not just the first."""

    exit_code = 2
    http_status = 500
    label = "配置有误"

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class ServiceUnavailable(RiskwatchError):
    """A service riskwatch needs does not answer; the message names it (URLs masked)."""

    exit_code = 2
    http_status = 503
    label = "服务不可用"


class StorageUnavailable(ServiceUnavailable):
    """The database cannot be reached; the message is one line and names the (masked) URL."""


class KafkaUnavailable(ServiceUnavailable):
    """No broker answered at the bootstrap address."""

    def __init__(self, bootstrap: str):
        super().__init__(f"Kafka not reachable at {bootstrap}: start it with scripts/kafka-start.sh")
        self.bootstrap = bootstrap


class SetupError(RiskwatchError):
    """Something the operator must provide or prepare before this can run; the message says what."""

    exit_code = 2
    http_status = 503
    label = "环境未就绪"


class SchemaOutdated(SetupError):
    """The database is not at the migration head; the message says how to upgrade."""


class DatabaseMissing(SetupError):
    """A SQLite database file that does not exist: only `riskwatch db upgrade` creates one."""


class UnknownTopic(SetupError):
    """The topic does not exist (the broker never auto-creates topics: see config/kafka/server.properties)."""

    def __init__(self, topic: str, bootstrap: str):
        super().__init__(
            f"topic {topic!r} does not exist at {bootstrap}: create it first (riskwatch produce --partitions N creates it)"
        )
        self.topic = topic


class TopicLayoutError(SetupError):
    """Existing topics whose partition counts do not fit together (see docs/stream.md)."""


class RegistryKeyError(SetupError):
    """No usable persons-registry key in the environment (one-line message, never the key)."""


class LinkSecretMissing(SetupError):
    """The link secret is unset or too weak (one line, names the variable, never the value)."""


class FontNotFound(SetupError, RuntimeError):
    """No CJK font on this machine; the message names the package that provides one."""


class NotFound(RiskwatchError, LookupError):
    """The alert, entity, token or file named does not exist."""

    exit_code = 3
    http_status = 404
    label = "未找到"


class AlertNotFound(NotFound):
    """No alert with this id."""


class NotPermitted(RiskwatchError):
    """The caller may not do this; the message never shows what they may not see."""

    exit_code = 4
    http_status = 403
    label = "无权操作"


class AccessDenied(NotPermitted):
    """The token is missing, unknown, revoked, expired, or of a role not allowed here (one-line message)."""

    http_status = 401


class PurposeRequired(AccessDenied):
    """A reveal without a stated purpose."""

    http_status = 403


class Forbidden(NotPermitted):
    """The principal may not do this to this alert (one line, no alert contents)."""


class LinkRefused(NotPermitted):
    """A link token that may not be used. `reason`: invalid | expired | used | not_answerable."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class Conflict(RiskwatchError):
    """The thing exists but its current state does not allow the action."""

    exit_code = 5
    http_status = 409
    label = "状态不允许"


class InvalidTransition(Conflict, ValueError):
    """The alert is not in a state that allows the action (e.g. already closed)."""


class DeploymentBusy(Conflict):
    """A stream deployment's consumer group still has members: its workers are running."""


class DeliveryError(RiskwatchError):
    """A failed delivery attempt; `str()` is one line without secrets (URLs are shown without their query)."""

    http_status = 502
    label = "发送失败"


class Transient(DeliveryError):
    """A failure worth retrying, after `retry_after` seconds when the channel said so."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class Permanent(DeliveryError):
    """A failure retrying cannot fix (a refused URL, a rejected payload)."""


class Uncertain(DeliveryError):
    """The request went out but no reply came in time, to a peer without idempotency keys (a robot):
    it may have been delivered, so it is recorded as uncertain rather than sent again blindly."""
