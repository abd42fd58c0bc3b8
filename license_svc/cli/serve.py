"""`license-svc serve`: migrate, seed development data, and serve HTTP with uvicorn."""

from __future__ import annotations

import logging

import typer

from license_svc.cli import app
from license_svc.config import ConfigError, load_settings


@app.command()
def serve(region: str = typer.Option(None, "--region", help="sh | js | zj | ah (default LICENSE_SVC_REGION)"),
          port: int = typer.Option(8000, "--port"),
          host: str = typer.Option("127.0.0.1", "--host"),
          log_level: str = typer.Option("info", "--log-level")) -> None:
    """启动服务 / run the HTTP service (pages, API, /docs)."""
    import uvicorn

    from license_svc.bootstrap import bootstrap
    from license_svc.logs import configure_logging
    from license_svc.web import create_app

    configure_logging(log_level.upper())
    try:
        settings = load_settings(region=region)
        ctx = bootstrap(settings)
    except ConfigError as exc:
        typer.echo(f"{exc.message_zh}\n{exc.message_en}", err=True)
        raise typer.Exit(3)
    logging.getLogger("license_svc").info(
        "serving", extra={"region": settings.region, "env": settings.env, "host": host, "port": port})
    uvicorn.run(create_app(ctx=ctx), host=host, port=port, log_config=None, access_log=False,
                server_header=False)
