"""HTTP ingest (docs/contract.md §9): source tokens, a request body to per-item verdicts, and the sinks
that make accepted events durable (the database of `riskwatch serve`, or Kafka for the worker)."""
