"""`license-svc clients add|list|disable`: API clients in the node's database.

In production this is how approval systems, departments and auditors get their keys (dev nodes
load keys_dev/clients.json instead).  A new key is printed once and never stored.
"""

from __future__ import annotations

import typer

from license_svc.cli import app

clients_app = typer.Typer(help="API 客户端 / API clients and their keys")
app.add_typer(clients_app, name="clients")


def _ctx(region: str | None):
    from license_svc.config import load_settings
    from license_svc.context import AppContext
    from license_svc.db import upgrade

    settings = load_settings(region=region)
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

    ctx = _ctx(region)
    try:
        with ctx.unit_of_work() as session:
            for client, disabled in list_clients(session):
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
