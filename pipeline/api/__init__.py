"""The HTTP API of the alert workflow (ASGI, FastAPI): see app.py. Served by `riskwatch api`."""
