"""Structured logs of the worker: one JSON object per line on stderr.

Every line has `ts` (UTC, RFC 3339), `level`, `logger` and `msg`; whatever a call passes in `extra`
is added as fields. A line about one event carries its `event_id` and, as the correlation id that
ties the ingest's, the scorer's and the sink's lines for that event together, `correlation_id`
(the event_id; for a message without a readable id, "<topic>/<partition>/<offset>").
Faust's and aiokafka's own lines go through the same formatter.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if "correlation_id" not in doc:
            if doc.get("event_id"):
                doc["correlation_id"] = doc["event_id"]
            elif "offset" in doc and "partition" in doc:
                doc["correlation_id"] = f"{doc.get('topic', 'events.raw')}/{doc['partition']}/{doc['offset']}"
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def logging_config(level: str = "info") -> dict:
    """A logging.config.dictConfig for the worker (Faust's Worker applies it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            # aiokafka reports every failed connection attempt while a broker restarts; keep warnings.
            "aiokafka": {"level": "WARNING"},
            "kafka": {"level": "WARNING"},
        },
    }


def setup(level: str = "info") -> None:
    """For code that runs outside Faust's Worker (the CLI before the worker starts)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
