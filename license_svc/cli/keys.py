"""`license-svc keys generate|sign|verify`: files in, DER signatures out.

Exit codes: 0 ok / valid, 1 signature invalid, 3 unreadable input or usage (docs/api.md).
Signatures are what the algorithm layer makes: SM2 DER SEQUENCE{r,s} over SM3(Z||M) with the
default ID (what `openssl pkeyutl -rawin -digest sm3 -pkeyopt distid:1234567812345678` checks),
RSA PKCS#1 v1.5 or PSS over SHA-256.
"""
from __future__ import annotations

import os
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die as _die, read_file as _read

keys_app = typer.Typer(help="密钥与签名 / keys and raw signatures")
app.add_typer(keys_app, name="keys")


def _passphrase(env_var: str | None) -> str | None:
    if not env_var:
        return None
    value = os.environ.get(env_var)
    if not value:
        _die(f"环境变量 {env_var} 未设置或为空", f"environment variable {env_var} is unset or empty")
    return value


@keys_app.command("generate")
def generate(alg_name: str = typer.Option(..., "--alg", help="sm2 | rsa"),
             out: Path = typer.Option(..., "--out", help="private key (PEM PKCS#8)"),
             pub: Path = typer.Option(None, "--pub", help="also write the public key (PEM SPKI)"),
             passphrase_env: str = typer.Option(None, "--passphrase-env",
                                                help="encrypt with the passphrase in this variable")):
    """生成 SM2 或 RSA-2048 私钥 / generate an SM2 or RSA-2048 private key."""
    from asn1crypto import pem

    from formats import algorithms as alg
    from formats.errors import ServiceError

    if alg_name not in alg.registry.names():
        _die(f"不支持的算法 {alg_name}",
             f"unsupported algorithm {alg_name} ({' | '.join(alg.registry.names())})")
    try:
        key = alg.generate_private_key(alg_name)
        data = alg.dump_private_key(key, _passphrase(passphrase_env))
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    out.write_bytes(data)
    os.chmod(out, 0o600)
    if pub:
        pub.write_bytes(pem.armor("PUBLIC KEY", key.public_key.spki_der()))
    typer.echo(f"已生成 {alg_name} 私钥 {out} / wrote {alg_name} private key")


def _scheme(key, scheme: str) -> dict:
    """`scheme=` for keys with a choice of padding (RSA); the default or the algorithm's own
    name means "the key's own scheme" for the others."""
    if scheme in getattr(key, "schemes", ()):
        return {"scheme": scheme}
    if scheme in ("pkcs1v15", key.algorithm):
        return {}
    _die(f"--scheme {scheme} 不适用于 {key.algorithm} 密钥",
         f"--scheme {scheme} does not apply to {key.algorithm} keys")


@keys_app.command("sign")
def sign(key_path: Path = typer.Option(..., "--key", help="private key (PEM/DER PKCS#8)"),
         infile: Path = typer.Option(..., "--in", help="message file"),
         out: Path = typer.Option(..., "--out", help="signature file (DER for SM2)"),
         scheme: str = typer.Option("pkcs1v15", "--scheme", help="RSA only: pkcs1v15 | pss"),
         passphrase_env: str = typer.Option(None, "--passphrase-env")):
    """对文件签名 / sign a file."""
    from formats import algorithms as alg
    from formats.errors import ServiceError

    try:
        key = alg.load_private_key(_read(key_path), _passphrase(passphrase_env))
        message = _read(infile)
        signature = key.sign(message, **_scheme(key, scheme))
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    out.write_bytes(signature)
    typer.echo(f"已签名 / signed ({key.algorithm}, {len(signature)} bytes) -> {out}")


@keys_app.command("verify")
def verify(pub: Path = typer.Option(None, "--pub", help="public key (PEM/DER SPKI)"),
           cert: Path = typer.Option(None, "--cert", help="or a certificate (PEM/DER)"),
           infile: Path = typer.Option(..., "--in", help="message file"),
           sig: Path = typer.Option(..., "--sig", help="signature file"),
           scheme: str = typer.Option("pkcs1v15", "--scheme", help="RSA only: pkcs1v15 | pss")):
    """验证签名：0 有效，1 无效，3 无法读取 / verify: exit 0 valid, 1 invalid, 3 unreadable."""
    from formats import algorithms as alg
    from formats.errors import InvalidSignature, ServiceError
    from formats.certs import load_certificate

    if (pub is None) == (cert is None):
        _die("必须且只能给出 --pub 或 --cert 之一", "give exactly one of --pub or --cert")
    try:
        if pub is not None:
            key = alg.load_public_key(_read(pub))
        else:
            key = alg.load_public_key(load_certificate(_read(cert)).public_key)
        message, signature = _read(infile), _read(sig)
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    try:
        key.verify(signature, message, **_scheme(key, scheme))
    except InvalidSignature as exc:
        typer.echo(f"签名无效 / signature INVALID: {exc.message_en}")
        raise typer.Exit(1)
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    typer.echo(f"签名有效 / signature valid ({key.algorithm})")


@keys_app.command("csr")
def make_csr(key_path: Path = typer.Option(..., "--key", help="private key (PEM/DER PKCS#8)"),
             passphrase_env: str = typer.Option(None, "--passphrase-env",
                                                help="the key's passphrase is in this variable"),
             role: str = typer.Option(..., "--role", help="licence_signer | seal_maker | tsa | node | "
                                      "status_signer | audit_log | witness | trust_list"),
             common_name: str = typer.Option(..., "--cn", help="subject CN, e.g. 上海市市场监督管理局 电子证照签名 SM2"),
             org_name: str = typer.Option(..., "--org-name", help="subject O (机构名称)"),
             org_code: str = typer.Option(..., "--org-code", help="统一社会信用代码 (organizationIdentifier)"),
             province: str = typer.Option(None, "--province", help="subject ST, e.g. 上海市"),
             out: Path = typer.Option(..., "--out", help="the request (PEM) for the region's CA")):
    """生成证书申请（PKCS#10），含该用途所需的密钥用法 / a certificate request for the region's CA,
    with the key usage the role needs."""
    from asn1crypto import pem

    from formats import algorithms as alg
    from formats.errors import ServiceError
    from signing.x509.csr import build_csr
    from signing.x509.names import build_name, is_valid_uscc

    if not is_valid_uscc(org_code):
        _die(f"统一社会信用代码无效：{org_code}", f"not a valid unified social credit code: {org_code}")
    try:
        key = alg.load_private_key(key_path.read_bytes(), _passphrase(passphrase_env))
        request = build_csr(key, build_name(common_name, organization=org_name, org_code=org_code,
                                            province=province), role)
    except OSError as exc:
        _die(f"无法读取 {key_path}", f"cannot read {key_path}: {exc.strerror}")
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    out.write_bytes(pem.armor("CERTIFICATE REQUEST", request.dump()))
    typer.echo(f"已写出证书申请 {out}，请交所在区域 CA 签发 / wrote {out}: send it to the region's CA")


@keys_app.command("import")
def import_cert(keys_dir: Path = typer.Option(..., "--keys-dir", help="the production key store folder"),
                region: str = typer.Option(..., "--region", help="sh | js | zj | ah"),
                role: str = typer.Option(..., "--role"),
                cert: Path = typer.Option(..., "--cert", help="the certificate the CA issued"),
                key_path: Path = typer.Option(..., "--key", help="the encrypted private key of the request"),
                chain: list[Path] = typer.Option(..., "--chain", help="issuing CA and root (repeatable, or one bundle)"),
                passphrase_env: str = typer.Option(..., "--passphrase-env",
                                                   help="the key's passphrase is in this variable"),
                item_id: str = typer.Option(None, "--id", help="manifest id (default from region, role, organisation)")):
    """导入 CA 签发的证书到生产密钥目录（先校验密钥、证书链和用途）/ take a CA-issued certificate
    into the key store, after checking key, chain and key usage."""
    from datetime import datetime, timezone

    from formats.errors import ServiceError
    from license_svc.config import REGIONS
    from license_svc.keyceremony import import_certificate

    if region not in REGIONS:
        _die(f"未知的区域 {region}", f"unknown region {region!r}")
    try:
        record = import_certificate(
            keys_dir, region=region, role=role, cert_data=cert.read_bytes(),
            key_data=key_path.read_bytes(), passphrase=_passphrase(passphrase_env),
            chain_data=[c.read_bytes() for c in chain], at=datetime.now(timezone.utc), item_id=item_id)
    except OSError as exc:
        _die("无法读取输入文件", f"cannot read an input file: {exc}")
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    typer.echo(f"已导入 {record['id']}（{record['subject']}，有效至 {record['not_after']}）/ imported "
               f"{record['id']} into {keys_dir}")
