"""`riskwatch api [--host] [--port]`: serve the alert API (pipeline/api/app.py) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.commands.access import DbOpt, open_db_or_exit
from pipeline.commands.common import ConfigDirOpt, load_config_or_exit

api_app = typer.Typer(help="The alert HTTP API (OpenAPI at /openapi.json).", invoke_without_command=True)


@api_app.callback()
def api_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Serve GET /alerts, GET /alerts/{id}, POST /alerts/{id}/ack, POST /alerts/{id}/close."""
    import uvicorn

    from pipeline.api.app import create_app

    cfg = load_config_or_exit(config)
    engine = open_db_or_exit(db)
    try:
        uvicorn.run(create_app(engine, cfg.assignments), host=host, port=port, log_level="info",
                    proxy_headers=False, server_header=False)
    finally:
        engine.dispose()
