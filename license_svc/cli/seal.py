"""`license-svc seal make|show|verify|sign|stamp`: electronic seals (GB/T 38540) as files, and
stamping a document with a seal of this node's registry (`stamp`).

Keys come either from files (`--maker-key/--maker-cert/--signer-cert`, `--key/--cert`) or from the
region key store (`--region`, `--org-code`): the region's seal maker (制章机构) makes the seal and
the organisation's licence-signing certificates (SM2 and RSA) are listed as its users.

Exit codes (docs/api.md): verify gives 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE, 3 for
unreadable input; the other commands 0 on success and 3 on bad input or usage.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import typer

from license_svc.cli import app
from license_svc.cli.common import die as _die, parse_time as _time, read_file as _read

seal_app = typer.Typer(help="电子印章 / electronic seals (GB/T 38540)")
app.add_typer(seal_app, name="seal")

TYPES = {"official": 1, "personal": 2, "special": 3}
SHAPES = {"official": "round", "personal": "square", "special": "oval"}


def _keystore(region: str | None):
    from license_svc.config import ConfigError, load_settings
    from license_svc.context import load_keystore
    from formats.errors import ServiceError

    try:
        settings = load_settings(**({"region": region} if region else {}))
        settings.check_keys_allowed()
        return settings, load_keystore(settings)
    except (ConfigError, ServiceError) as exc:
        _die(exc.message_zh, exc.message_en)


def _load_key(path: Path, passphrase_env: str | None):
    from formats import algorithms as alg
    from formats.errors import ServiceError

    passphrase = os.environ.get(passphrase_env) if passphrase_env else None
    try:
        return alg.load_private_key(_read(path), passphrase)
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)


def _load_cert(path: Path):
    from formats.certs import CertificateFormatError, load_certificate

    try:
        return load_certificate(_read(path))
    except CertificateFormatError:
        _die(f"{path} 不是 X.509 证书", f"{path} is not an X.509 certificate")


def _render(shape: str, org_name: str, seal_name: str, number: str):
    from signing.seal.picture import render_oval_seal, render_round_seal, render_square_seal

    if shape == "round":
        return render_round_seal(org_name, seal_name, number)
    if shape == "oval":
        return render_oval_seal(org_name, seal_name, number)
    return render_square_seal(seal_name or org_name)


@seal_app.command("make")
def make(out: Path = typer.Option(..., "--out", help="seal file to write (.esl, DER SESeal)"),
         seal_name: str = typer.Option(..., "--seal-name", help="e.g. 合同专用章; a person's name "
                                       "for --type personal"),
         seal_type: str = typer.Option("official", "--type", help="official | special | personal"),
         org_name: str = typer.Option(None, "--org-name", help="organisation name on the seal"),
         number: str = typer.Option("", "--number", help="seal number along the lower arc"),
         shape: str = typer.Option(None, "--shape", help="round | oval | square (default by type)"),
         valid_from: str = typer.Option(None, "--valid-from", help="ISO time (default now)"),
         valid_to: str = typer.Option(None, "--valid-to", help="ISO time (default +2 years)"),
         region: str = typer.Option(None, "--region", help="key store region (sh|js|zj|ah)"),
         org_code: str = typer.Option(None, "--org-code",
                                      help="key store: organisation whose signers use the seal"),
         maker_key: Path = typer.Option(None, "--maker-key", help="seal maker private key file"),
         maker_cert: Path = typer.Option(None, "--maker-cert", help="seal maker certificate"),
         signer_cert: list[Path] = typer.Option(None, "--signer-cert",
                                                help="certificate allowed to use the seal (repeat)"),
         passphrase_env: str = typer.Option(None, "--passphrase-env"),
         digests: bool = typer.Option(False, "--digests", help="list SM3 digests of the signer "
                                      "certificates instead of the certificates"),
         picture_out: Path = typer.Option(None, "--picture-out", help="also write the PNG")):
    """制作电子印章 / make a GB/T 38540 seal."""
    from formats.errors import ServiceError
    from signing.seal import make_seal, new_seal_id

    if seal_type not in TYPES:
        _die(f"印章类型须为 {' | '.join(TYPES)}", f"--type must be one of {', '.join(TYPES)}")
    shape = shape or SHAPES[seal_type]
    if maker_key or maker_cert or signer_cert:
        if not (maker_key and maker_cert and signer_cert):
            _die("文件方式须同时给出 --maker-key、--maker-cert 和 --signer-cert",
                 "with files, give --maker-key, --maker-cert and at least one --signer-cert")
        key, cert = _load_key(maker_key, passphrase_env), _load_cert(maker_cert)
        signers = [_load_cert(p) for p in signer_cert]
        if not org_name:
            _die("文件方式须给出 --org-name", "with files, give --org-name")
    else:
        if not org_code:
            _die("须给出 --org-code（密钥库）或证书文件", "give --org-code (key store) or key files")
        settings, ks = _keystore(region)
        try:
            org = ks.organisation(org_code)
            maker = ks.credential(org.region, "seal_maker", "sm2")
            signers = [ks.credential(org.region, "licence_signer", a, org_code=org_code).cert
                       for a in ("sm2", "rsa")]
        except ServiceError as exc:
            _die(exc.message_zh, exc.message_en)
        key, cert, org_name = maker.key, maker.cert, org_name or org.name
    start = _time(valid_from)
    end = _time(valid_to, start + timedelta(days=730))
    try:
        picture = _render(shape, org_name, seal_name, number)
        der = make_seal(maker_key=key, maker_cert=cert, es_id=new_seal_id(), name=seal_name,
                        seal_type=TYPES[seal_type], picture=picture, signer_certs=signers,
                        valid_start=start, valid_end=end, created=_time(None),
                        cert_digests=digests)
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    out.write_bytes(der)
    if picture_out:
        picture_out.write_bytes(picture.data)
    typer.echo(f"已制作印章 {out}（{len(der)} 字节）/ wrote seal {out}")


@seal_app.command("show")
def show(path: Path = typer.Argument(..., help=".esl seal or .dat signature"),
         picture_out: Path = typer.Option(None, "--picture-out", help="write the seal picture"),
         as_json: bool = typer.Option(False, "--json")):
    """显示印章或签章数据的内容 / show a seal's or a signature's fields."""
    from verification.seal import SealFormatError, detect, parse_seal, parse_signature
    from verification.seal.verify import cert_summary, seal_summary

    data = _read(path)
    try:
        if detect(data) == "seal":
            seal, sig = parse_seal(data), None
        else:
            sig = parse_signature(data)
            seal = sig.seal
    except SealFormatError as exc:
        _die(exc.message_zh, exc.message_en)
    from asn1crypto import x509

    out = {"seal": seal_summary(seal), "notes": list((sig or seal).notes)}
    out["seal"]["signer_certificates"] = [cert_summary(x509.Certificate.load(c))
                                          for c in seal.certs]
    if sig is not None:
        out["signature"] = {"version": sig.version, "time": sig.time_info and
                            sig.time_info.isoformat(), "data_hash": sig.data_hash.hex(),
                            "property_info": sig.property_info,
                            "signer": cert_summary(x509.Certificate.load(sig.signer_cert)),
                            "algorithm": sig.signature_algorithm,
                            "timestamp": sig.timestamp is not None}
    if picture_out:
        picture_out.write_bytes(seal.picture)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    s = out["seal"]
    typer.echo(f"印章 seal: {s['name']}（{s['family']}，类型 type {s['type']}）")
    typer.echo(f"  编码 esID: {s['es_id']}    厂商 vendor: {s['vendor']}")
    typer.echo(f"  有效期 validity: {s['valid_start']} – {s['valid_end']}")
    typer.echo(f"  制章者 maker: {s['maker']}")
    typer.echo(f"  图片 picture: {s['picture_type']} {s['picture_mm'][0]}×{s['picture_mm'][1]} mm")
    for c in s["signer_certificates"]:
        typer.echo(f"  可用证书 signer: {c['subject']}")
    if sig is not None:
        g = out["signature"]
        typer.echo(f"签章 signature: {g['time']} by {g['signer']['subject']}")
        typer.echo(f"  dataHash: {g['data_hash']}   propertyInfo: {g['property_info']}")
    for n in out["notes"]:
        typer.echo(f"  注 note: {n}")


@seal_app.command("verify")
def verify(path: Path = typer.Argument(..., help=".esl seal or .dat signature"),
           at: str = typer.Option(None, "--at", help="verify as of this ISO time (default now)"),
           data: Path = typer.Option(None, "--data", help="the signed document (for dataHash)"),
           as_json: bool = typer.Option(False, "--json"),
           region: str = typer.Option(None, "--region", help="trust only this region's roots"),
           no_keystore: bool = typer.Option(False, "--no-keystore",
                                            help="trust nothing (cryptography only)")):
    """验证电子印章或电子签章数据 / verify a seal or a signature-with-seal."""
    from verification.report import exit_code
    from verification.seal import SealFormatError, SealTrust, detect, verify_seal, verify_signature

    blob = _read(path)
    document = _read(data) if data else None
    trust = SealTrust()
    if not no_keystore:
        _settings, ks = _keystore(region)
        regions = [region] if region else list(ks.regions)
        roots = [c for r in regions for c in ks.roots(r)]
        trust = SealTrust(seal_maker_roots=roots, signer_roots=roots, tsa_roots=roots,
                          intermediates=[c for r in regions for c in ks.intermediates(r)],
                          crls=[c for r in regions for c in ks.crls(r)])
    moment = _time(at)
    try:
        kind = detect(blob)
    except SealFormatError:
        kind = None
    if kind == "seal":
        report = verify_seal(blob, at=moment, trust=trust)
    else:
        report = verify_signature(blob, at=moment, trust=trust, data=document)
    typer.echo(report.to_json() if as_json else report.to_text())
    raise typer.Exit(3 if kind is None else exit_code(report))


@seal_app.command("sign")
def sign(seal_path: Path = typer.Option(..., "--seal", help="the seal (.esl)"),
         infile: Path = typer.Option(..., "--in", help="document to sign"),
         out: Path = typer.Option(..., "--out", help="signature file (.dat, DER SES_Signature)"),
         key: Path = typer.Option(None, "--key", help="signer private key file"),
         cert: Path = typer.Option(None, "--cert", help="signer certificate file"),
         passphrase_env: str = typer.Option(None, "--passphrase-env"),
         region: str = typer.Option(None, "--region"),
         org_code: str = typer.Option(None, "--org-code", help="key store signer organisation"),
         alg_name: str = typer.Option("sm2", "--alg", help="key store signer: sm2 | rsa"),
         property_info: str = typer.Option(None, "--property-info",
                                           help="what is protected (default: the file name)"),
         at: str = typer.Option(None, "--at", help="signing time (default now)")):
    """用印章对文件签章 / sign a document with a seal (dataHash = SM3 of the file)."""
    from formats.errors import ServiceError
    from signing.seal import sign_document

    if key or cert:
        if not (key and cert):
            _die("须同时给出 --key 和 --cert", "give both --key and --cert")
        signer_key, signer_cert = _load_key(key, passphrase_env), _load_cert(cert)
    else:
        if not org_code:
            _die("须给出 --org-code（密钥库）或 --key/--cert", "give --org-code or --key/--cert")
        _settings, ks = _keystore(region)
        try:
            org = ks.organisation(org_code)
            cred = ks.credential(org.region, "licence_signer", alg_name, org_code=org_code)
        except ServiceError as exc:
            _die(exc.message_zh, exc.message_en)
        signer_key, signer_cert = cred.key, cred.cert
    # propertyInfo is an IA5String: a Chinese file name goes in percent-encoded (RFC 3986).
    info = property_info or quote(infile.name)
    try:
        der = sign_document(seal_der=_read(seal_path), signer_key=signer_key,
                            signer_cert=signer_cert, property_info=info, time=_time(at),
                            data=_read(infile))
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    out.write_bytes(der)
    typer.echo(f"已签章 {out}（{len(der)} 字节）/ wrote signature {out}")


@seal_app.command("stamp")
def stamp(document: Path = typer.Argument(..., help="PDF (or OFD) document to stamp"),
          seal_id: str = typer.Option(..., "--seal", help="the seal's esID in this node's registry"),
          out: Path = typer.Option(..., "--out", help="stamped document to write"),
          page: int = typer.Option(None, "--page", help="page (1-based), with --x and --y"),
          x_mm: float = typer.Option(None, "--x", help="mm from the left edge to the seal's left side"),
          y_mm: float = typer.Option(None, "--y", help="mm from the top edge to the seal's top"),
          keyword: str = typer.Option(None, "--keyword", help="centre the seal over this text"),
          straddle: bool = typer.Option(False, "--straddle", help="骑缝章 across every page's right edge"),
          size_mm: float = typer.Option(None, "--size", help="seal width in mm (default: the seal's)"),
          alg_name: str = typer.Option("sm2", "--alg", help="sm2 | rsa"),
          certify: bool = typer.Option(False, "--certify",
                                       help="certification signature (DocMDP P=1, closes the document)"),
          region: str = typer.Option(None, "--region")):
    """文档签章 / stamp a document with a registry seal, as the seal's organisation (audited).

    Exit codes: 0 written, 1 refused (placement, document state, seal status), 3 bad input."""
    from formats.errors import ServiceError
    from license_svc.cli.issue import _context, _operator
    from license_svc.seals import registry, stamping
    from signing.placement import Placement

    data = _read(document)
    try:
        placement = Placement(page=page, x_mm=x_mm, y_mm=y_mm, keyword=keyword,
                              straddle=straddle, size_mm=size_mm)
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    ctx = _context(region)
    try:
        with ctx.unit_of_work() as session:
            org_code = registry.get_seal(session, seal_id).org_code
            actor = _operator(ctx, None, org_code)
            stamped = stamping.stamp_document(ctx, session, actor, seal_id, data, placement,
                                              algorithm=alg_name, certify=certify)
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en,
             code=3 if isinstance(exc, stamping.DocumentTypeUnsupported) else 1)
    finally:
        ctx.close()
    out.write_bytes(stamped)
    typer.echo(f"已盖章 {out}（{len(stamped)} 字节）/ wrote stamped document {out}")
