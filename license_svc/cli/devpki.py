"""`license-svc dev-pki generate`: (re)create the DEVELOPMENT-ONLY PKI in keys_dev/."""
from __future__ import annotations

import time
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.config import DEV_KEYS_DIR

devpki_app = typer.Typer(help="开发测试 PKI / development-only PKI (keys_dev)")
app.add_typer(devpki_app, name="dev-pki")


@devpki_app.command("generate")
def generate(out: Path = typer.Option(DEV_KEYS_DIR, "--out", help="target folder (keys_dev)")):
    """生成开发测试用的根 CA、签发 CA、各机构证书、CRL 和开发客户端 / generate the dev PKI."""
    from signing import devpki

    started = time.perf_counter()
    manifest = devpki.generate(out)
    elapsed = time.perf_counter() - started
    typer.echo(f"已生成 {len(manifest['items'])} 张证书（{len(manifest['regions'])} 个区域 + 联盟根），"
               f"用时 {elapsed:.1f} 秒 / generated {len(manifest['items'])} certificates in "
               f"{elapsed:.1f}s into {out}")
    typer.echo("仅供开发测试，切勿用于生产 / DEVELOPMENT ONLY — never use in production")
