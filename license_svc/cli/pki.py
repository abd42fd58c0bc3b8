"""`license-svc pki show`: the trust material of a region, as a table people can read."""
from __future__ import annotations

import typer

from license_svc.cli import app
from license_svc.config import REGIONS, ConfigError, load_settings

pki_app = typer.Typer(help="PKI 信任材料 / trust material (certificates, CRLs)")
app.add_typer(pki_app, name="pki")


def _store(region: str | None):
    from formats.errors import ServiceError
    from signing.keystore import KeyStore

    try:
        settings = load_settings(region=region)
        settings.check_keys_allowed()
        return settings, KeyStore.load(settings.keys_dir, settings.key_passphrase,
                                       production=settings.production)
    except (ConfigError, ServiceError) as exc:
        typer.echo(f"错误：{exc.message_zh} / error: {exc.message_en}", err=True)
        raise typer.Exit(3)


@pki_app.command("show")
def show(region: str = typer.Option(None, "--region", help="sh|js|zj|ah (default: LICENSE_SVC_REGION)"),
         all_regions: bool = typer.Option(False, "--all", help="every region and the federation root")):
    """列出区域的证书：角色、机构、主题、序列号、有效期、指纹 / list a region's certificates."""
    from rich.console import Console
    from rich.table import Table

    settings, store = _store(region)
    regions = [*REGIONS, "federation"] if all_regions else [settings.region]
    console = Console()
    console.width = max(console.width, 170)  # a pipe reports 80 columns; keep rows on one line
    for r in regions:
        table = Table(title=f"{REGIONS.get(r, '长三角联盟')}（{r}）信任材料 / trust material")
        for col in ("角色 role", "算法", "机构 organisation", "USCC", "主题 CN", "序列号 serial",
                    "有效期 validity", "SHA-256", "状态"):
            table.add_column(col, no_wrap=col not in ("机构 organisation", "主题 CN"))
        for item in store.items(region=r):
            cn = store.certificate(item["id"]).subject.native.get("common_name", "")
            table.add_row(item["role"], item["algorithm"], item["org_name"], item["org_code"], cn,
                          item["serial"][:12] + "…", f"{item['not_before'][:10]}→{item['not_after'][:10]}",
                          item["sha256"][:16] + "…", item.get("status", "valid"))
        console.print(table)
        for crl in store.crls(r):
            tbs = crl["tbs_cert_list"]
            console.print(f"CRL {tbs['issuer'].native.get('common_name')}: "
                          f"撤销 {len(tbs['revoked_certificates'])} 张 / revoked, "
                          f"下次更新 next update {tbs['next_update'].native:%Y-%m-%d}")
