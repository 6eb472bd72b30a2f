"""Fixtures for tests against the real services that scripts/services-up.sh starts (`make test` does).

A service that does not answer fails the test when CI is set (.ci/run must have started it: a skip
there would hide a broken start-up) and skips it elsewhere, naming the script that starts it.
"""

from __future__ import annotations

import os
import uuid

import pytest

DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_PG_URL = "postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch"


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI: the service must be up)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Bootstrap address of a broker that answers (RISKWATCH_KAFKA_BOOTSTRAP, default 127.0.0.1:9092)."""
    from streams.kafka_io import KafkaUnavailable, ping

    bootstrap = os.environ.get("RISKWATCH_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP)
    try:
        ping(bootstrap)
    except KafkaUnavailable as exc:
        _unavailable(str(exc))
    return bootstrap


@pytest.fixture
def unique_topic(kafka_bootstrap: str):
    """A topic name no other test uses; the topic is deleted afterwards if the test created it."""
    from streams.kafka_io import delete_topic

    name = f"test.{uuid.uuid4().hex[:12]}"
    yield name
    delete_topic(kafka_bootstrap, name)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """SQLAlchemy URL of a PostgreSQL that accepts it (RISKWATCH_TEST_PG_URL, default the riskwatch role)."""
    import sqlalchemy as sa

    url = os.environ.get("RISKWATCH_TEST_PG_URL", DEFAULT_PG_URL)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        _unavailable(f"PostgreSQL not reachable at {shown}: start it with scripts/pg-start.sh ({reason})")
    finally:
        engine.dispose()
    return url
