"""`license-svc clients add|list|disable`: API clients in the node's database.

In production this is how approval systems, departments and auditors get their keys (dev nodes
load keys_dev/clients.json instead).  A new key is printed once and never stored.
"""

from __future__ import annotations

from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die

clients_app = typer.Typer(help="API 客户端 / API clients and their keys")
app.add_typer(clients_app, name="clients")


def _ctx(region: str | None, *, create: bool = True):
    """The node's database; `create=False` (read-only commands) refuses to bring a database into
    being just to say it is empty — a mistyped region or data dir should be noticed."""
    from license_svc.config import load_settings
    from license_svc.context import AppContext
    from license_svc.db import current_heads, upgrade

    settings = load_settings(region=region)
    if not create:
        url = settings.database_url
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            die(f"数据库不存在：{url}", f"no database at {url} (wrong --region or "
                "LICENSE_SVC_DATA_DIR? `license-svc serve` or `clients add` creates it)")
        ctx = AppContext.create(settings)
        if not current_heads(ctx.engine):
            ctx.close()
            die(f"数据库尚未初始化：{url}", f"the database at {url} has no schema yet")
        return ctx
    upgrade(settings)
    return AppContext.create(settings)


@clients_app.command("add")
def add(client_id: str = typer.Option(..., "--id"), name: str = typer.Option(..., "--name"),
        roles: list[str] = typer.Option(..., "--role", help="issuer|relying|citizen|auditor|admin (repeat)"),
        org_code: str = typer.Option("", "--org-code", help="统一社会信用代码 of the client's organisation"),
        licence_types: list[str] = typer.Option([], "--licence-type", help="for issuers (repeat)"),
        holder_code: str = typer.Option(None, "--holder-code", help="for citizens and companies"),
        region: str = typer.Option(None, "--region")):
    """创建或更新客户端并生成新密钥（仅显示一次）/ create or re-key a client; prints the key once."""
    from license_svc.auth.clients import ClientError, upsert_client

    ctx = _ctx(region)
    try:
        with ctx.unit_of_work() as session:
            client, key = upsert_client(session, client_id=client_id, name=name, region=ctx.region,
                                        org_code=org_code, roles=roles, licence_types=licence_types,
                                        holder_code=holder_code)
    except ClientError as exc:
        typer.echo(f"{exc.message_zh}\n{exc.message_en}", err=True)
        raise typer.Exit(3)
    finally:
        ctx.close()
    typer.echo(f"{client.client_id}  roles={','.join(sorted(client.roles))}")
    typer.echo(f"API key (shown once / 仅显示一次): {key}")


@clients_app.command("list")
def list_(region: str = typer.Option(None, "--region")):
    """列出客户端 / list clients (never their keys)."""
    from license_svc.auth.clients import list_clients

    ctx = _ctx(region, create=False)
    try:
        with ctx.unit_of_work() as session:
            rows = list_clients(session)
            if not rows:
                typer.echo(f"区域 {ctx.region} 还没有 API 客户端 / no API clients in region {ctx.region} "
                           "yet (license-svc clients add …)")
            for client, disabled in rows:
                typer.echo(f"{client.client_id}\t{client.region}\t{client.org_code}\t"
                           f"{','.join(sorted(client.roles))}\t{'disabled' if disabled else 'active'}\t"
                           f"{client.name}")
    finally:
        ctx.close()


@clients_app.command("disable")
def disable(client_id: str = typer.Argument(...), region: str = typer.Option(None, "--region")):
    """停用客户端密钥 / revoke a client's key."""
    from license_svc.auth.clients import ClientError, disable_client

    ctx = _ctx(region)
    try:
        with ctx.unit_of_work() as session:
            disable_client(session, client_id)
    except ClientError as exc:
        typer.echo(f"{exc.message_zh}\n{exc.message_en}", err=True)
        raise typer.Exit(3)
    finally:
        ctx.close()
    typer.echo(f"{client_id} disabled")
