"""Production keys: a node makes its key and a certificate request (`license-svc keys csr`), the
region's CA signs it, and the node takes the certificate into its key store
(`license-svc keys import`).  docs/operations.md "Production keys" walks the ceremony.

Import checks what would otherwise fail at the first signature, or worse, at a relying party:
the key is encrypted (production refuses plain keys), it matches the certificate, and the
certificate chains to the given root *with the key usage and extended key usage its role needs*
(`signing.x509.csr.ROLE_PROFILES`), as of now.  Then it writes the files and the manifest entry
the key store reads (`signing.keystore`), CA certificates included so paths can be built.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from formats import algorithms as alg
from formats.certs import load_certificate, load_certificates
from formats.errors import ServiceError
from signing.x509.csr import profile
from signing.x509.summary import certificate_summary, dump_pem
from verification.certpath import validate_path

MANIFEST_SCHEMA = "license-svc-keystore/1"


class ImportError_(ServiceError):  # noqa: N801 - "ImportError" is a builtin
    code = "key-import-refused"
    kind = "invalid"


def _refuse(en: str, zh: str):
    raise ImportError_(en, zh)


def _load_manifest(keys_dir: Path) -> dict:
    path = keys_dir / "manifest.json"
    if not path.exists():
        return {"schema": MANIFEST_SCHEMA, "development_only": False, "regions": {},
                "organisations": [], "items": []}
    manifest = json.loads(path.read_text("utf-8"))
    if manifest.get("development_only"):
        _refuse(f"{keys_dir} is a development key store; import production keys into a new folder",
                f"{keys_dir} 是开发测试密钥目录，请将生产密钥导入新的目录")
    return manifest


def _attr(cert, name: str) -> str:
    return str(cert.subject.native.get(name, ""))


def _record(item_id: str, region: str, role: str, cert, cert_rel: str, key_rel: str | None,
            issuer: str | None) -> dict:
    summary = certificate_summary(cert)
    return {"id": item_id, "region": region, "role": role,
            "algorithm": alg.registry.find_by_spki(cert.public_key).name,
            "org_name": _attr(cert, "organization_name"),
            "org_code": _attr(cert, "organization_identifier"),
            "subject": summary["subject"], "serial": summary["serial"],
            "not_before": summary["not_before"], "not_after": summary["not_after"],
            "sha256": summary["sha256"], "cert": cert_rel, "key": key_rel, "issuer": issuer,
            "crl": None, "status": "valid", "encrypted": key_rel is not None}


def import_certificate(keys_dir: Path, *, region: str, role: str, cert_data: bytes,
                       key_data: bytes, passphrase: str | None, chain_data: list[bytes],
                       at: datetime, item_id: str | None = None) -> dict:
    """Check and add one credential (and its CA certificates) to the key store at `keys_dir`;
    returns the new manifest item."""
    keys_dir = Path(keys_dir)
    p = profile(role)
    if b"ENCRYPTED PRIVATE KEY" not in key_data:
        _refuse("the private key is not encrypted; make it with `license-svc keys generate "
                "--passphrase-env VAR`", "私钥未加密：请用 `license-svc keys generate --passphrase-env 变量名` 生成")
    try:
        key = alg.load_private_key(key_data, passphrase)
        cert = load_certificate(cert_data)
        chain = [c for data in chain_data for c in load_certificates(data)]
    except ServiceError as exc:
        raise ImportError_(exc.message_en, exc.message_zh) from None
    if key.public_key.spki_der() != cert.public_key.dump():
        _refuse("the certificate is not for this key", "证书与私钥不匹配")
    roots = [c for c in chain if c.self_signed == "maybe" or c.subject == c.issuer]
    if not roots:
        _refuse("the chain has no root certificate (give the issuing CA and the root with --chain)",
                "证书链中没有根证书（请用 --chain 给出签发 CA 和根证书）")
    result = validate_path(cert, trust_roots=roots, intermediates=[c for c in chain if c not in roots],
                           at=at, key_usage=set(p.key_usage),
                           extended_key_usage=set(p.extended_key_usage) or None)
    if not result.ok:
        _refuse(f"the certificate does not chain to the given root for role {role}: "
                f"{result.detail_zh_en}", f"证书无法以 {role} 用途链接到给定根证书：{result.detail_zh_en}")

    manifest = _load_manifest(keys_dir)
    items = manifest["items"]
    by_sha = {i["sha256"]: i for i in items}
    (keys_dir / region).mkdir(parents=True, exist_ok=True)
    issuer_id = None
    # result.path runs root → leaf; record each CA once (by fingerprint), parent first.
    for ca in result.path[:-1]:
        summary = certificate_summary(ca)
        existing = by_sha.get(summary["sha256"])
        if existing is None:
            ca_role = "root" if ca in roots else "issuing_ca"
            ca_id = f"{region}-{ca_role.replace('_', '-')}-{summary['sha256'][:12]}"
            rel = f"{region}/{ca_id}.cert.pem"
            (keys_dir / rel).write_bytes(dump_pem(ca))
            existing = _record(ca_id, region, ca_role, ca, rel, None, issuer_id)
            existing["encrypted"] = False
            items.append(existing)
            by_sha[summary["sha256"]] = existing
        issuer_id = existing["id"]
    algorithm = alg.registry.find_by_spki(cert.public_key).name
    item_id = item_id or f"{region}-{role.replace('_', '-')}-{_attr(cert, 'organization_identifier') or 'node'}-{algorithm}"
    if any(i["id"] == item_id for i in items):
        _refuse(f"the key store already has {item_id}; give another --id (key rollover keeps both)",
                f"密钥目录中已有 {item_id}，请用 --id 指定新名称（密钥轮换时新旧并存）")
    cert_rel, key_rel = f"{region}/{item_id}.cert.pem", f"{region}/{item_id}.key.pem"
    (keys_dir / cert_rel).write_bytes(dump_pem(cert))
    (keys_dir / key_rel).write_bytes(key_data)
    (keys_dir / key_rel).chmod(0o600)
    record = _record(item_id, region, role, cert, cert_rel, key_rel, issuer_id)
    items.append(record)
    (keys_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
    return record
