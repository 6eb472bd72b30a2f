"""`riskwatch serve`: the one-process deployment (docs/contract.md §9) — the accept log, the engine
loop over it with its persisted state, wired with HTTP ingest, the notifier, the API and the pages."""
