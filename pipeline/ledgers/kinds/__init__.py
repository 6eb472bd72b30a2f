"""One module per ledger kind; pipeline/ledgers/registry.py lists them."""
