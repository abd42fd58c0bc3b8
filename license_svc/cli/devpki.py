"""`license-svc dev-pki generate`: (re)create the DEVELOPMENT-ONLY PKI in keys_dev/;
`license-svc dev-pki export --region R --out DIR`: one region's key store from it."""
from __future__ import annotations

import time
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die
from license_svc.config import DEV_KEYS_DIR, REGIONS

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


@devpki_app.command("export")
def export(region: str = typer.Option(..., "--region", help="sh | js | zj | ah"),
           out: Path = typer.Option(..., "--out", help="the new key store folder"),
           peers: str = typer.Option(None, "--peers",
                                     help="node addresses for the federation list, sh=URL,js=URL,… "
                                          "(default http://127.0.0.1:8001…8004 for sh, js, zj, ah)"),
           source: Path = typer.Option(DEV_KEYS_DIR, "--from", help="the full dev key set")):
    """导出单个区域的开发密钥库（不含联盟根私钥）/ write one region's key store, its clients and
    a signed federation list (valid 30 days) into OUT."""
    from license_svc.config import ConfigError
    from license_svc.federation.dev import export_node_store, parse_node_urls
    from formats.errors import ServiceError
    from signing.devpki import ExportError

    if region not in REGIONS:
        die(f"未知的区域 {region}", f"unknown region {region!r}; one of {sorted(REGIONS)}")
    try:
        urls = parse_node_urls(peers)
        done = export_node_store(region, out, urls, source=source)
    except (ConfigError, ExportError) as exc:
        die(exc.message_zh, exc.message_en)
    except ServiceError as exc:
        die(exc.message_zh, exc.message_en)
    fed = done["federation"]
    typer.echo(f"已导出区域 {region} 的 {len(done['manifest']['items'])} 张证书（含联盟根证书，不含其私钥）"
               f"到 {out} / exported region {region}: {len(done['manifest']['items'])} certificates "
               f"(federation root: certificate only) into {out}")
    typer.echo(f"联盟列表 federation list: {fed['path']}  sequence {fed['sequence']}  "
               f"valid until {fed['next_update']}")
    typer.echo(f"运行 / run: LICENSE_SVC_KEYS_DIR={out} license-svc serve --region {region}")
    typer.echo("仅供开发测试，切勿用于生产 / DEVELOPMENT ONLY — never use in production")
