"""The acceptance tests marked `integration` use the real services' fixtures."""

from tests.integration.conftest import kafka_bootstrap, pg_url, unique_topic

__all__ = ["kafka_bootstrap", "pg_url", "unique_topic"]
