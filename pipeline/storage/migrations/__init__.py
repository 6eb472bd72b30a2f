"""Alembic migrations of the riskwatch database (configured in code by pipeline/storage/db.py)."""
