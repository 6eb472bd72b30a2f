"""The rule language: conditions, one module per rule type, the registry and the loader."""
