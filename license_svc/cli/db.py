"""`license-svc db upgrade`: bring the node's database to the newest schema without serving
(a deploy job, before the new version starts); `serve` does the same at start-up."""

from __future__ import annotations

import typer

from license_svc.cli import app
from license_svc.cli.common import die

db_app = typer.Typer(help="数据库 / the node's database")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade_command(region: str = typer.Option(None, "--region", help="sh | js | zj | ah")):
    """升级数据库结构到最新版本 / migrate the database to the newest schema."""
    from license_svc.config import ConfigError, load_settings
    from license_svc.db import current_heads, make_engine, upgrade

    try:
        settings = load_settings(**({"region": region} if region else {}))
        upgrade(settings)
        engine = make_engine(settings.database_url)
        heads = sorted(current_heads(engine))
        engine.dispose()
    except ConfigError as exc:
        die(exc.message_zh, exc.message_en)
    except Exception as exc:  # database unreachable, permissions: an environment problem
        die("数据库升级失败", f"migration failed: {exc.__class__.__name__}: {str(exc)[:300]}", code=1)
    typer.echo(f"数据库已是最新结构 / database at the newest schema: {', '.join(heads)}")
