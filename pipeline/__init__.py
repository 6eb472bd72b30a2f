"""riskwatch core: the transport-free event contract, rule engine, scoring and alert policy."""
