"""The transport-free engine: per-entity state, scoring with decay, and alert raising."""
