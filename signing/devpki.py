"""The DEVELOPMENT-ONLY PKI in keys_dev/: four regions, their issuing organisations, the
federation root, and the dev API clients (docs/pki.md, docs/api.md).

Structure is reproducible (same names, codes, roles, validity dates from a fixed generation
date); keys and serials are fresh on every run.  Chains are three levels deep — root → issuing
CA → end entity — per algorithm, because that is what production looks like and what OpenSSL 3
cannot verify for SM2 (a test documents it).  The test fixtures live here too: a revoked
("revoked_demo") and an expired ("expired_demo") end-entity certificate per region.
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from formats import algorithms as alg
from formats.certs import load_certificate
from signing.x509 import build_certificate, build_crl, build_name, certificate_summary, dump_pem, uscc

MANIFEST_SCHEMA = "license-svc-dev-pki/1"
GENERATED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
YEAR = timedelta(days=365)  # only for the expired fixture's back-dating
ROOT_YEARS, CA_YEARS, EE_YEARS = 20, 10, 5

REGIONS = {
    # region: (name, GB/T 2260 code, province DN value, market regulator, traffic police,
    #          civil affairs)
    "sh": ("上海", "310000", "上海市", "上海市市场监督管理局", "上海市公安局交通警察总队", "上海市民政局"),
    "js": ("江苏", "320000", "江苏省", "江苏省市场监督管理局", "江苏省公安厅交通警察总队", "江苏省民政厅"),
    "zj": ("浙江", "330000", "浙江省", "浙江省市场监督管理局", "浙江省公安厅交通警察总队", "浙江省民政厅"),
    "ah": ("安徽", "340000", "安徽省", "安徽省市场监督管理局", "安徽省公安厅交通警察总队", "安徽省民政厅"),
}
# The region's e-licence platform operator runs the node, TSA, trust list, status and audit log.
PLATFORM = {"sh": "上海市大数据中心", "js": "江苏省大数据管理中心", "zj": "浙江省大数据发展管理局",
            "ah": "安徽省数据资源管理局"}
SEAL_MAKER = "{province}电子印章制作中心"
RELYING = "{province}人力资源和社会保障局"
FEDERATION_ORG = "长三角区域合作办公室"

ORG_KINDS = {
    "amr": {"licence_types": ["business_licence", "food_business_licence"],
            "seal_name": "电子证照专用章"},
    "traffic": {"licence_types": ["driving_licence"], "seal_name": "电子证照专用章"},
    "civil_affairs": {"licence_types": ["marriage_certificate"], "seal_name": "婚姻登记专用章",
                      "office": "{place}民政局"},
}
# Marriages are registered by district and county civil-affairs bureaus (婚姻登记机关), each
# sealing with its own 婚姻登记专用章; the city or provincial bureau runs the licence system and
# signs for them.  Keyed by GB/T 2260 code: all of Shanghai's districts, the capitals' elsewhere.
REGISTRY_OFFICES = {
    "sh": {"310101": "上海市黄浦区", "310104": "上海市徐汇区", "310105": "上海市长宁区",
           "310106": "上海市静安区", "310107": "上海市普陀区", "310109": "上海市虹口区",
           "310110": "上海市杨浦区", "310112": "上海市闵行区", "310113": "上海市宝山区",
           "310114": "上海市嘉定区", "310115": "上海市浦东新区", "310116": "上海市金山区",
           "310117": "上海市松江区", "310118": "上海市青浦区", "310120": "上海市奉贤区",
           "310151": "上海市崇明区"},
    "js": {"320102": "南京市玄武区", "320104": "南京市秦淮区", "320105": "南京市建邺区",
           "320106": "南京市鼓楼区", "320111": "南京市浦口区", "320113": "南京市栖霞区",
           "320114": "南京市雨花台区", "320115": "南京市江宁区", "320116": "南京市六合区",
           "320117": "南京市溧水区", "320118": "南京市高淳区"},
    "zj": {"330102": "杭州市上城区", "330105": "杭州市拱墅区", "330106": "杭州市西湖区",
           "330108": "杭州市滨江区", "330109": "杭州市萧山区", "330110": "杭州市余杭区",
           "330111": "杭州市富阳区", "330112": "杭州市临安区", "330113": "杭州市临平区",
           "330114": "杭州市钱塘区"},
    "ah": {"340102": "合肥市瑶海区", "340103": "合肥市庐阳区", "340104": "合肥市蜀山区",
           "340111": "合肥市包河区"},
}
CITIZENS = {"sh": ("张三", "310101", "19900307"), "js": ("李四", "320102", "19850612"),
            "zj": ("王五", "330102", "19921120"), "ah": ("赵六", "340102", "19780201")}
COMPANIES = {"sh": "上海示例科技有限公司", "js": "江苏示例餐饮有限公司",
             "zj": "浙江示例贸易有限公司", "ah": "安徽示例物流有限公司"}


def gov_code(region_code: str, seq: int, category: str = "11") -> str:
    """A GB 32100 USCC for a dev body: category + region + 'MB' + 7-digit sequence + check."""
    return uscc(f"{category}{region_code}MB{seq:07d}")


def company_code(region_code: str, seq: int) -> str:
    return uscc(f"91{region_code}MA{seq:07d}")


def citizen_id(area: str, birth: str, seq: int = 123) -> str:
    """A GB 11643 identity number with its check character."""
    body = f"{area}{birth}{seq:03d}"
    total = sum(int(d) * pow(2, 18 - i, 11) for i, d in enumerate(body, start=1))
    return body + "10X98765432"[total % 11]


@dataclass
class _Issued:
    id: str
    key: object
    cert: object
    record: dict
    revoked: list = field(default_factory=list)


class _Generator:
    def __init__(self, out: Path, at: datetime):
        self.out, self.at = out, at
        self.items: list[dict] = []
        self.by_id: dict[str, _Issued] = {}

    def _write(self, rel: str, data: bytes) -> str:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return rel

    def issue(self, *, id: str, region: str, role: str, algorithm: str, org_name: str,
              org_code: str, common_name: str, issuer: _Issued | None, province: str | None,
              years: int = EE_YEARS, ca: bool = False, path_length: int | None = None,
              key_usage=None, eku=None, eku_critical=False,
              not_before: datetime | None = None, not_after: datetime | None = None,
              status: str = "valid", org_unit: str | None = None) -> _Issued:
        key = alg.generate_private_key(algorithm)
        nb = not_before or self.at
        na = not_after or nb.replace(year=nb.year + years)
        crl_urls = [] if issuer is None else [f"http://pki.{region}.yrd-dev.invalid/crl/{issuer.id}.crl"]
        cert = build_certificate(
            subject=build_name(common_name, organization=org_name, organizational_unit=org_unit,
                               org_code=org_code, province=province),
            subject_public_key=key.public_key, issuer_key=(issuer.key if issuer else key),
            issuer_cert=issuer.cert if issuer else None, not_before=nb, not_after=na,
            ca=ca, path_length=path_length,
            key_usage=key_usage if key_usage is not None else
            (() if ca else ("digital_signature", "non_repudiation")),
            extended_key_usage=eku, eku_critical=eku_critical, crl_urls=crl_urls)
        folder = region
        summary = certificate_summary(cert)
        record = {
            "id": id, "region": region, "role": role, "algorithm": algorithm,
            "org_name": org_name, "org_code": org_code, "subject": summary["subject"],
            "serial": summary["serial"], "not_before": summary["not_before"],
            "not_after": summary["not_after"], "sha256": summary["sha256"],
            "cert": self._write(f"{folder}/{id}.cert.pem", dump_pem(cert)),
            "key": self._write(f"{folder}/{id}.key.pem", alg.dump_private_key(key)),
            "issuer": issuer.id if issuer else None, "crl": None, "status": status,
            "encrypted": False,
        }
        issued = _Issued(id, key, cert, record)
        self.items.append(record)
        self.by_id[id] = issued
        return issued

    def write_crls(self) -> None:
        for issued in self.by_id.values():
            if not issued.cert.ca:
                continue
            crl = build_crl(issued.cert, issued.key, issued.revoked, this_update=self.at,
                            next_update=self.at.replace(year=self.at.year + EE_YEARS))
            region = issued.record["region"]
            issued.record["crl"] = self._write(f"{region}/{issued.id}.crl.pem", dump_pem(crl))


def _region(g: _Generator, region: str) -> tuple[list[dict], list[dict]]:
    name, rcode, province, amr_name, traffic_name, civil_name = REGIONS[region]
    platform = PLATFORM[region]
    platform_code = gov_code(rcode, 100, "12")
    cas: dict[str, _Issued] = {}
    for a in ("sm2", "rsa"):
        root = g.issue(id=f"{region}-root-{a}", region=region, role="root", algorithm=a,
                       org_name=platform, org_code=platform_code, province=province,
                       common_name=f"{name}电子证照根CA {a.upper()}（开发测试）", issuer=None,
                       years=ROOT_YEARS, ca=True, path_length=1)
        cas[a] = g.issue(id=f"{region}-issuing-ca-{a}", region=region, role="issuing_ca",
                         algorithm=a, org_name=platform, org_code=platform_code,
                         province=province, issuer=root, years=CA_YEARS, ca=True, path_length=0,
                         common_name=f"{name}电子证照签发CA {a.upper()}（开发测试）")

    orgs = []
    for seq, (kind, org_name) in enumerate(
            (("amr", amr_name), ("traffic", traffic_name), ("civil_affairs", civil_name)), 1):
        code = gov_code(rcode, seq * 10)
        for a in ("sm2", "rsa"):
            g.issue(id=f"{region}-licence-signer-{kind}-{a}", region=region, role="licence_signer",
                    algorithm=a, org_name=org_name, org_code=code, province=province,
                    issuer=cas[a], common_name=f"{org_name} 电子证照签名 {a.upper()}")
        orgs.append({
            "region": region, "kind": kind, "name": org_name, "code": code,
            "licence_types": ORG_KINDS[kind]["licence_types"],
            "seal": {"name": f"{org_name}{ORG_KINDS[kind]['seal_name']}", "type": 1,
                     "esid": f"{rcode[:2]}{seq:02d}{10000000 + seq:010d}"},
        })
        if "office" in ORG_KINDS[kind]:
            orgs[-1]["offices"] = {area: ORG_KINDS[kind]["office"].format(place=place)
                                   for area, place in REGISTRY_OFFICES[region].items()}

    amr_code = orgs[0]["code"]
    seal_org = SEAL_MAKER.format(province=province)
    g.issue(id=f"{region}-seal-maker-sm2", region=region, role="seal_maker", algorithm="sm2",
            org_name=seal_org, org_code=gov_code(rcode, 200, "12"), province=province,
            issuer=cas["sm2"], common_name=f"{seal_org} 制章")
    common = dict(region=region, org_name=platform, org_code=platform_code, province=province)
    g.issue(id=f"{region}-trust-list-sm2", role="trust_list", algorithm="sm2", issuer=cas["sm2"],
            common_name=f"{name}信任列表签名", **common)
    g.issue(id=f"{region}-node-sm2", role="node", algorithm="sm2", issuer=cas["sm2"],
            common_name=f"{region}.node.yrd-dev", key_usage=("digital_signature",),
            eku=["client_auth", "server_auth"], **common)
    for a in ("sm2", "rsa"):
        g.issue(id=f"{region}-tsa-{a}", role="tsa", algorithm=a, issuer=cas[a],
                common_name=f"{name}时间戳服务 {a.upper()}", eku=["time_stamping"],
                eku_critical=True, **common)
    g.issue(id=f"{region}-status-signer-sm2", role="status_signer", algorithm="sm2",
            issuer=cas["sm2"], common_name=f"{name}证照状态签名", **common)
    g.issue(id=f"{region}-audit-log-sm2", role="audit_log", algorithm="sm2", issuer=cas["sm2"],
            common_name=f"{name}用证留痕日志签名", **common)
    _witness(g, region, cas["sm2"])

    # Test fixtures: one revoked and one expired licence-signer-like certificate per algorithm.
    for a in ("sm2", "rsa"):
        revoked = g.issue(id=f"{region}-revoked-demo-{a}", region=region, role="revoked_demo",
                          algorithm=a, org_name=amr_name, org_code=amr_code, province=province,
                          issuer=cas[a], common_name=f"{amr_name} 已撤销测试证书 {a.upper()}",
                          status="revoked")
        cas[a].revoked.append((revoked.cert.serial_number, g.at + timedelta(days=1),
                               "key_compromise"))
        revoked.record["revoked_at"] = (g.at + timedelta(days=1)).isoformat()
        g.issue(id=f"{region}-expired-demo-{a}", region=region, role="expired_demo", algorithm=a,
                org_name=amr_name, org_code=amr_code, province=province, issuer=cas[a],
                common_name=f"{amr_name} 已过期测试证书 {a.upper()}", status="expired",
                not_before=g.at - 2 * YEAR, not_after=g.at - timedelta(days=1))
    return orgs, _clients(region, orgs)


def _witness(g: "_Generator", region: str, ca: "_Issued") -> "_Issued":
    """The region's witness key: it cosigns other regions' audit checkpoints (docs/formats.md
    "Witnesses").  A key of its own, not the audit-log key, so that a witness cosignature can
    never be mistaken for (or replayed as) the region's own log signature."""
    name, _, province, *_ = REGIONS[region]
    return g.issue(id=f"{region}-witness-sm2", region=region, role="witness", algorithm="sm2",
                   issuer=ca, common_name=f"{name}审计日志见证签名", org_name=PLATFORM[region],
                   org_code=gov_code(REGIONS[region][1], 100, "12"), province=province)


def add_witness_keys(keys_dir: Path | str, *, at: datetime = GENERATED_AT) -> list[str]:
    """Add a witness key per region to an existing development PKI, issued by the region's SM2
    issuing CA, without touching anything else; returns the ids added (none when present).

    Why not regenerate: `generate` makes every key and serial afresh, which would change every
    certificate fixtures and committed examples refer to.  This appends to manifest.json only."""
    keys_dir = Path(keys_dir)
    manifest = json.loads((keys_dir / "manifest.json").read_text(encoding="utf-8"))
    items = manifest["items"]
    have = {i["region"] for i in items if i["role"] == "witness"}
    g = _Generator(keys_dir, at)
    added = []
    for region in REGIONS:
        if region in have or region not in manifest.get("regions", {}):
            continue
        ca_item = next(i for i in items if i["id"] == f"{region}-issuing-ca-sm2")
        if not ca_item.get("key"):
            continue  # an exported store without the CA key cannot issue
        ca_cert = load_certificate((keys_dir / ca_item["cert"]).read_bytes())
        ca_key = alg.load_private_key((keys_dir / ca_item["key"]).read_bytes())
        ca = _Issued(ca_item["id"], ca_key, ca_cert, ca_item)
        issued = _witness(g, region, ca)
        pos = next(n for n, i in enumerate(items) if i["id"] == f"{region}-audit-log-sm2") + 1
        items.insert(pos, issued.record)
        added.append(issued.id)
    if added:
        (keys_dir / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return added


def _api_key(region: str, label: str) -> str:
    return f"dev-{region}-{label}-{secrets.token_urlsafe(24)}"


def _clients(region: str, orgs: list[dict]) -> list[dict]:
    name, rcode, province, *_ = REGIONS[region]
    out = []
    for org in orgs:
        out.append({"client_id": f"{region}-issuer-{org['kind']}", "name": f"{org['name']}审批系统",
                    "region": region, "org_code": org["code"], "roles": ["issuer"],
                    "licence_types": org["licence_types"],
                    "api_key": _api_key(region, f"issuer-{org['kind']}")})
    relying = RELYING.format(province=province)
    out.append({"client_id": f"{region}-relying", "name": relying, "region": region,
                "org_code": gov_code(rcode, 300), "roles": ["relying"],
                "api_key": _api_key(region, "relying")})
    cname, area, birth = CITIZENS[region]
    out.append({"client_id": f"{region}-citizen", "name": f"{cname}（测试市民）", "region": region,
                "org_code": None, "roles": ["citizen"], "holder_code": citizen_id(area, birth),
                "holder_code_type": "111", "api_key": _api_key(region, "citizen")})
    out.append({"client_id": f"{region}-company", "name": COMPANIES[region], "region": region,
                "org_code": company_code(rcode, 1), "roles": ["citizen"],
                "holder_code": company_code(rcode, 1), "holder_code_type": "001",
                "api_key": _api_key(region, "company")})
    out.append({"client_id": f"{region}-auditor", "name": f"{province}电子监察（审计）",
                "region": region, "org_code": gov_code(rcode, 400), "roles": ["auditor"],
                "api_key": _api_key(region, "auditor")})
    out.append({"client_id": f"{region}-admin", "name": f"{PLATFORM[region]}运维管理员",
                "region": region, "org_code": gov_code(rcode, 100, "12"), "roles": ["admin"],
                "api_key": _api_key(region, "admin")})
    return out


README = """# keys_dev — DEVELOPMENT ONLY / 仅供开发测试

**██ DEVELOPMENT ONLY — 仅供开发测试 — NEVER USE IN PRODUCTION ██**

Every private key in this folder is committed to a public repository and therefore COMPROMISED.
The service refuses to start with these keys when `LICENSE_SVC_ENV=production`, and `KeyStore`
refuses a manifest marked `development_only` in production.

Regenerate (new keys and serials, same structure; takes a few seconds):

    license-svc dev-pki generate --out keys_dev

Contents: `manifest.json` indexes every certificate, key and CRL (region, role, algorithm,
organisation name and USCC, file paths); `clients.json` lists the dev API clients and their API
keys; one folder per region (sh, js, zj, ah) plus `federation/`.  See docs/pki.md.
"""


def generate(out: Path | str, *, at: datetime = GENERATED_AT) -> dict:
    """Write a fresh development PKI into `out` (replacing a previous one) and return the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for sub in (*REGIONS, "federation"):
        shutil.rmtree(out / sub, ignore_errors=True)
    g = _Generator(out, at)
    fed = g.issue(id="federation-root-sm2", region="federation", role="federation_root",
                  algorithm="sm2", org_name=FEDERATION_ORG, org_code=gov_code("310000", 900),
                  province=None, issuer=None, years=ROOT_YEARS, ca=True, path_length=0,
                  key_usage=("digital_signature", "non_repudiation"),
                  common_name="长三角电子证照互认信任列表运营（开发测试）")
    # The federation root signs the list of lists directly, so it may also sign data.
    fed.record["note"] = "self-signed; signs the yrd-lotl/1 list of region trust lists"
    organisations, clients = [], []
    for region in REGIONS:
        orgs, cl = _region(g, region)
        organisations += orgs
        clients += cl
    g.write_crls()
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "development_only": True,
        "generated_at": at.isoformat(),
        "regions": {r: {"name": v[0], "code": v[1], "province": v[2], "platform": PLATFORM[r]}
                    for r, v in REGIONS.items()},
        "organisations": organisations,
        "items": g.items,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    (out / "clients.json").write_text(json.dumps(clients, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    (out / "README.md").write_text(README, encoding="utf-8")
    return manifest


# -- one region's key store -------------------------------------------------------------------

REGION_README = """# {region} key store — DEVELOPMENT ONLY / 仅供开发测试

**██ DEVELOPMENT ONLY — 仅供开发测试 — NEVER USE IN PRODUCTION ██**

Exported from keys_dev/ by `license-svc dev-pki export --region {region}`: only region
{region}'s certificates, private keys and CRLs, plus the federation root CERTIFICATE (no
federation root key).  `federation.json` is the federation list signed by the dev federation
root at export time; `clients.json` holds region {region}'s dev API clients.  Every private key
here is a copy of a committed, public key.  Run a node on it with
`LICENSE_SVC_KEYS_DIR=<this folder> license-svc serve --region {region}`.
"""


class ExportError(ValueError):
    """The source is not a development key set this function can split (bilingual message)."""

    def __init__(self, message_en: str, message_zh: str):
        super().__init__(f"{message_zh} / {message_en}")
        self.message_en, self.message_zh = message_en, message_zh


def export_region(source: Path | str, region: str, out: Path | str) -> dict:
    """Write into `out` a key store holding only `region`'s keys, certificates and CRLs plus the
    federation root certificate, and `region`'s dev clients; return the new manifest.

    Why: a node that holds every region's keys can sign anything for anyone, and then the
    trust lists it syncs decide nothing.  A node on an exported store can only sign for its own
    region and must learn the others from signed lists, as in production.  The federation root
    is kept as a certificate only (the pinned anchor for the federation list); its private key
    stays behind, so the node cannot sign the federation list itself.  Files keep their
    relative paths, so the manifest is the source's records, filtered, in the same format
    `signing.keystore.KeyStore` reads (still `development_only`).  `out` is replaced, except
    for files this function does not write (a node's database next to it stays)."""
    source, out = Path(source), Path(out)
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read {source}/manifest.json: {exc}",
                          f"无法读取 {source}/manifest.json") from None
    if not manifest.get("development_only"):
        raise ExportError("only a development key set (development_only) can be exported",
                          "只能导出开发测试密钥（manifest 标记 development_only）")
    if region not in manifest.get("regions", {}):
        raise ExportError(f"region {region!r} is not in {source}", f"{source} 中没有区域 {region!r}")
    if out.resolve() == source.resolve():
        raise ExportError("the export folder must differ from the source", "导出目录不能与源目录相同")

    items = []
    for item in manifest["items"]:
        if item["region"] == region:
            items.append(dict(item))
        elif item["role"] == "federation_root":
            # The pinned anchor: certificate only.  No key, and no CRL (nothing it issued is
            # checked against one: it signs the federation list directly).
            items.append({**item, "key": None, "crl": None})
    out.mkdir(parents=True, exist_ok=True)
    for sub in (*REGIONS, "federation"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for item in items:
        for field_name in ("cert", "key", "crl"):
            rel = item.get(field_name)
            if not rel:
                continue
            src = (source / rel).resolve()
            if source.resolve() not in src.parents:
                raise ExportError(f"manifest path escapes the key directory: {rel}",
                                  f"manifest 中的路径越出密钥目录：{rel}")
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
    exported = {
        **{k: v for k, v in manifest.items() if k not in ("regions", "organisations", "items")},
        "development_only": True,
        "exported_region": region,
        "regions": {region: manifest["regions"][region]},
        "organisations": [o for o in manifest.get("organisations", []) if o["region"] == region],
        "items": items,
    }
    (out / "manifest.json").write_text(json.dumps(exported, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    clients_file = source / "clients.json"
    clients = json.loads(clients_file.read_text(encoding="utf-8")) if clients_file.exists() else []
    (out / "clients.json").write_text(
        json.dumps([c for c in clients if c.get("region") == region], ensure_ascii=False, indent=1)
        + "\n", encoding="utf-8")
    (out / "README.md").write_text(REGION_README.format(region=region), encoding="utf-8")
    return exported
