"""`riskwatch api [--host] [--port] [--no-pages]`: serve the alert API (pipeline/api/app.py) and the
leader's alert pages (pipeline/web) with uvicorn. The pages need RISKWATCH_LINK_SECRET:
without it the command refuses to start (one line), unless --no-pages serves the JSON API alone."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config

api_app = typer.Typer(help="The alert HTTP API (OpenAPI at /openapi.json) and the leaders' alert pages.",
                      invoke_without_command=True)


@api_app.callback()
def api_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
    no_pages: Annotated[bool, typer.Option("--no-pages", help="Serve only the JSON API, not the alert pages "
                                           "(/a/{id}, /alerts in a browser, /login)")] = False,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Serve GET /alerts, GET /alerts/{id}, POST /alerts/{id}/ack, POST /alerts/{id}/close and the alert pages."""
    import uvicorn

    from pipeline.api.app import create_app
    from pipeline.settings import load_settings
    from pipeline.web.links import Keys, LinkSecretMissing

    cfg = read_config(config)
    settings = load_settings()
    if not no_pages:
        try:
            Keys.from_settings(settings)
        except LinkSecretMissing as exc:
            raise LinkSecretMissing(f"{exc}; or pass --no-pages to serve only the JSON API") from None
    engine = open_db(db)
    try:
        app = create_app(engine, cfg.assignments, body_limit=settings.body_limit)
        if not no_pages:
            from pipeline.web.pages import mount_from_settings

            mount_from_settings(app, cfg, settings)
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)
    finally:
        engine.dispose()
