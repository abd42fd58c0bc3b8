"""`license-svc serve`: migrate, seed development data, and serve HTTP with uvicorn.

`--workers N` runs N worker processes behind one socket.  Why processes: issuance, verification
and audited requests are CPU work under the GIL, so one process uses one core however many
threads it has.  The parent migrates and seeds once; each worker builds its own context from
the same settings (passed through the environment) and its own database pool.  The audit
sequencer and checkpoint publisher run in every worker; their database lock makes that safe
(docs/formats.md "Sequencing").  Prometheus metrics are then collected across the workers
(prometheus_client's multiprocess mode, files in a temporary directory).
"""

from __future__ import annotations

import logging
import os
import tempfile

import typer

from license_svc.cli import app
from license_svc.config import ConfigError, load_settings


@app.command()
def serve(region: str = typer.Option(None, "--region", help="sh | js | zj | ah (default LICENSE_SVC_REGION)"),
          port: int = typer.Option(8000, "--port"),
          host: str = typer.Option("127.0.0.1", "--host"),
          log_level: str = typer.Option("info", "--log-level"),
          workers: int = typer.Option(1, "--workers", min=1, max=64,
                                      help="worker processes (one per core for CPU-bound work)")) -> None:
    """启动服务 / run the HTTP service (pages, API, /docs)."""
    from license_svc.logs import configure_logging

    configure_logging(log_level.upper())  # first: what the imports below warn is logged as JSON
    import uvicorn

    from license_svc.bootstrap import bootstrap
    from license_svc.web import create_app

    try:
        settings = load_settings(region=region)
        ctx = bootstrap(settings)
    except ConfigError as exc:
        typer.echo(f"{exc.message_zh}\n{exc.message_en}", err=True)
        raise typer.Exit(3)
    logging.getLogger("license_svc").info(
        "serving", extra={"region": settings.region, "env": settings.env, "host": host, "port": port,
                          "workers": workers})
    if workers == 1:
        uvicorn.run(create_app(ctx=ctx), host=host, port=port, log_config=None, access_log=False,
                    server_header=False)
        return
    ctx.engine.dispose()  # the workers open their own connections
    with tempfile.TemporaryDirectory(prefix="license-svc-metrics-") as metrics_dir:
        os.environ.update({"LICENSE_SVC_REGION": settings.region,
                           "LICENSE_SVC_LOG_LEVEL": log_level.upper(),
                           "PROMETHEUS_MULTIPROC_DIR": metrics_dir})
        uvicorn.run("license_svc.web.worker:app", factory=True, workers=workers,
                    host=host, port=port, log_config=None, access_log=False, server_header=False)
