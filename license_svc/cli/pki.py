"""`license-svc pki show`: the trust material of a region, as a table people can read."""
from __future__ import annotations

import typer

from license_svc.cli import app
from license_svc.config import REGIONS, load_settings

pki_app = typer.Typer(help="PKI 信任材料 / trust material (certificates, CRLs)")
app.add_typer(pki_app, name="pki")


@pki_app.command("show")
def show(region: str = typer.Option(None, "--region", help="sh|js|zj|ah (default: LICENSE_SVC_REGION)"),
         all_regions: bool = typer.Option(False, "--all", help="every region and the federation root")):
    """列出区域的证书：角色、机构、主题、序列号、有效期、指纹 / list a region's certificates."""
    from rich.console import Console
    from rich.table import Table

    from signing.keystore import KeyStore

    settings = load_settings(region=region)
    settings.check_keys_allowed()
    store = KeyStore.load(settings.keys_dir, settings.key_passphrase, production=settings.production)
    regions = [*REGIONS, "federation"] if all_regions else [settings.region]
    console = Console()
    for r in regions:
        table = Table(title=f"{REGIONS.get(r, '长三角联盟')}（{r}）信任材料 / trust material",
                      show_lines=False)
        for col in ("角色 role", "算法 alg", "机构 organisation", "统一社会信用代码 USCC",
                    "主题 CN", "序列号 serial", "有效期 validity", "SHA-256", "状态 status"):
            table.add_column(col, overflow="fold")
        for item in store.items(region=r):
            cert = store.certificate(item["id"])
            cn = cert.subject.native.get("common_name", "")
            table.add_row(item["role"], item["algorithm"], item["org_name"], item["org_code"], cn,
                          item["serial"][:16] + "…", f"{item['not_before'][:10]} → {item['not_after'][:10]}",
                          item["sha256"][:16] + "…", item.get("status", "valid"))
        console.print(table)
        crls = store.crls(r)
        if crls:
            console.print(f"CRL：{len(crls)} 个，共撤销 "
                          f"{sum(len(c['tbs_cert_list']['revoked_certificates']) for c in crls)} 张证书")
