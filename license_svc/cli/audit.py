"""`license-svc audit export|verify|checkpoint|incidents`: take the log away, check it offline
(`--witnesses N`: and demand N cosignatures of other regions), sign now, list what this node
found wrong while witnessing other regions' logs.

`verify` exit codes: 0 the log is intact, 1 tampered (an entry, a checkpoint or the recorded
hashes), 2 intact but checked against a key from the export itself rather than a trusted one,
3 unreadable export or usage.
"""

from __future__ import annotations

from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die as _die

audit_app = typer.Typer(help="用证留痕审计日志 / the tamper-evident audit log")
app.add_typer(audit_app, name="audit")


def _context(region: str | None):
    from license_svc.config import ConfigError, load_settings
    from license_svc.context import AppContext

    try:
        return AppContext.create(load_settings(region=region))
    except ConfigError as exc:
        _die(exc.message_zh, exc.message_en)


def _region_of(origin: str) -> str | None:
    from license_svc.audit.checkpoint import ORIGIN_PREFIX

    return origin[len(ORIGIN_PREFIX):] if origin.startswith(ORIGIN_PREFIX) else None


@audit_app.command("export")
def export(out: Path = typer.Option(..., "--out", help="directory, or a file ending in .json"),
           region: str = typer.Option(None, "--region", help="sh | js | zj | ah")):
    """导出审计日志（条目、记录的叶哈希、检查点、一致性证明）/ export the audit log."""
    from license_svc.audit.checkpoint import log_signer, origin_for
    from license_svc.audit.export import export_log

    ctx = _context(region)
    try:
        keys = [log_signer(ctx.keystore, ctx.region).verifier_key]
        with ctx.unit_of_work() as session:
            manifest = export_log(session, out, origin=origin_for(ctx.region), log_keys=keys,
                                  now=ctx.now())
    except OSError as exc:
        _die(f"无法写入 {out}", f"cannot write {out}: {exc}")
    except Exception as exc:  # database or key store unavailable: usage/environment problem
        _die("导出失败（数据库或密钥不可用）", f"export failed: {exc.__class__.__name__}: {exc}")
    finally:
        ctx.close()
    typer.echo(f"已导出 {manifest['size']} 条审计条目、{manifest['checkpoints']} 个检查点到 {out} / "
               f"exported {manifest['size']} entries and {manifest['checkpoints']} checkpoints")


def _trusted_keys(origin: str, key_files: list[Path], use_keystore: bool):
    """Keys to check checkpoints with: --key files, else the region's audit-log certificate
    from the key store; None when neither is available (the verifier then says INDETERMINATE)."""
    from formats import algorithms as alg
    from formats.errors import ServiceError
    from verification.tlog import NoteKey

    if key_files:
        keys = []
        for path in key_files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                _die(f"无法读取公钥 {path}", f"cannot read {path}: {exc.strerror}")
            try:
                keys.append(NoteKey(origin, _spki(data)))
            except (ServiceError, ValueError) as exc:
                _die(f"无法解析公钥或证书 {path}", f"cannot read key or certificate {path}: {exc}")
        return keys
    region = _region_of(origin)
    if not use_keystore or region is None:
        return None
    try:
        from license_svc.config import load_settings
        from license_svc.context import load_keystore

        cert = load_keystore(load_settings()).credential(region, "audit_log", "sm2").cert
        return [NoteKey(origin, alg.load_public_key(cert.public_key).spki_der())]
    except Exception:  # no key store here: verify against the export's key, INDETERMINATE
        return None


def _spki(data: bytes) -> bytes:
    """DER SubjectPublicKeyInfo from a PEM/DER public key or certificate."""
    from asn1crypto import pem, x509

    from formats import algorithms as alg

    if pem.detect(data):
        kind, _, der = pem.unarmor(data)
        if kind == "CERTIFICATE":
            return alg.load_public_key(x509.Certificate.load(der).public_key).spki_der()
        return alg.load_public_key(data).spki_der()
    try:
        return alg.load_public_key(x509.Certificate.load(data).public_key).spki_der()
    except Exception:
        return alg.load_public_key(data).spki_der()


def _witness_keys(bundle, cert_files: list[Path], federation: Path | None,
                  trust_lists: list[Path]):
    """Witness keys to count cosignatures with: `--witness-cert` files (each tried under every
    witness name on the export's notes: the key ID binds name and key, so only the right name
    matches), else the `witness` entries of the given trust lists, else the key store's."""
    from formats import algorithms as alg
    from formats.errors import ServiceError
    from license_svc.audit.checkpoint import WITNESS_PREFIX
    from verification.tlog import NoteFormatError, NoteKey, parse_note

    if cert_files:
        names = set()
        for note in bundle.checkpoints:
            try:
                names.update(s.name for s in parse_note(note).signatures
                             if s.name.startswith(WITNESS_PREFIX))
            except NoteFormatError:
                continue
        keys = []
        for path in cert_files:
            try:
                spki = _spki(path.read_bytes())
            except OSError as exc:
                _die(f"无法读取见证证书 {path}", f"cannot read {path}: {exc.strerror}")
            except (ServiceError, ValueError) as exc:
                _die(f"无法解析见证证书 {path}", f"cannot read witness certificate {path}: {exc}")
            keys += [NoteKey(name, spki) for name in sorted(names)]
        return keys
    from license_svc.config import load_settings
    from license_svc.context import load_keystore

    try:
        ks = load_keystore(load_settings())
    except Exception as exc:
        _die("无法加载密钥库", f"cannot load the key store: {exc}")
    if federation is not None:
        from datetime import datetime, timezone

        from license_svc.federation import offline
        from verification.trustlist import entries_of

        try:
            lists = offline.from_files(ks, federation, trust_lists, datetime.now(timezone.utc))
        except ServiceError as exc:
            _die(exc.message_zh, exc.message_en)
        keys = []
        for payload in lists.payloads:
            for e in entries_of(payload):
                if e.role == "witness" and e.status == "granted":
                    from asn1crypto import x509
                    spki = alg.load_public_key(x509.Certificate.load(e.cert_der).public_key).spki_der()
                    keys.append(NoteKey(WITNESS_PREFIX + payload["region"], spki))
        return keys
    keys = []
    for region in ks.regions:
        for item in ks.items(region, "witness"):
            cert = ks.certificate(item["id"])
            keys.append(NoteKey(WITNESS_PREFIX + region, alg.load_public_key(cert.public_key).spki_der()))
    return keys


@audit_app.command("verify")
def verify(path: Path = typer.Argument(..., help="export directory or .json file"),
           as_json: bool = typer.Option(False, "--json", help="machine-readable report"),
           key: list[Path] = typer.Option([], "--key", help="audit-log public key or certificate "
                                          "(PEM/DER); default: the region's key from the key store"),
           checkpoint: list[Path] = typer.Option([], "--checkpoint", help="a checkpoint note kept "
                                                 "earlier (repeatable); it must match the export too"),
           no_keystore: bool = typer.Option(False, "--no-keystore",
                                            help="do not look the key up in the key store"),
           witnesses: int = typer.Option(0, "--witnesses", min=0, help="require at least N valid "
                                         "witness cosignatures from other regions on the final checkpoint"),
           witness_cert: list[Path] = typer.Option([], "--witness-cert", help="witness certificate "
                                                   "(repeatable); default: trust lists or key store"),
           federation: Path = typer.Option(None, "--federation", help="federation list file (with "
                                           "--trust-list): witness keys from the trust lists"),
           trust_list: list[Path] = typer.Option([], "--trust-list", help="region trust list file")):
    """离线验证导出的审计日志 / verify an exported audit log offline (0 ok, 1 tampered, 3 unreadable)."""
    from verification.audit import ExportFormatError, load_export, verify_export
    from verification.report import exit_code

    try:
        bundle = load_export(path)
    except ExportFormatError as exc:
        _die(exc.message_zh, exc.message_en)
    extra = []
    for cp in checkpoint:
        try:
            extra.append((f"--checkpoint {cp.name}", cp.read_bytes()))
        except OSError as exc:
            _die(f"无法读取检查点 {cp}", f"cannot read {cp}: {exc.strerror}")
    wkeys = _witness_keys(bundle, witness_cert, federation, trust_list) if witnesses else []
    report = verify_export(bundle, _trusted_keys(bundle.origin, key, not no_keystore),
                           extra_checkpoints=extra, witness_keys=wkeys, min_witnesses=witnesses)
    typer.echo(report.to_json() if as_json else report.to_text())
    if not as_json and report.first_bad_entry is not None:
        typer.echo(f"首个问题条目 / first bad entry: {report.first_bad_entry}")
    raise typer.Exit(exit_code(report))


@audit_app.command("checkpoint")
def checkpoint_now(region: str = typer.Option(None, "--region", help="sh | js | zj | ah")):
    """立即签发检查点并打印 / sign a checkpoint now (if the log grew) and print the latest."""
    from license_svc.audit import latest_checkpoint_note, publish

    ctx = _context(region)
    try:
        publish(ctx)
        with ctx.unit_of_work() as session:
            typer.echo(latest_checkpoint_note(session).decode("utf-8"), nl=False)
    except Exception as exc:
        _die("签发检查点失败", f"cannot publish a checkpoint: {exc.__class__.__name__}: {exc}")
    finally:
        ctx.close()


@audit_app.command("incidents")
def incidents(region: str = typer.Option(None, "--region", help="sh | js | zj | ah"),
              as_json: bool = typer.Option(False, "--json", help="with the evidence, as JSON"),
              limit: int = typer.Option(100, "--limit", min=1, max=10000)):
    """列出见证时发现的事件 / incidents this node recorded while witnessing other regions' logs."""
    import json

    from license_svc.audit.witness import incidents as list_incidents

    ctx = _context(region)
    try:
        with ctx.unit_of_work() as session:
            rows = [{"id": r.id, "origin": r.origin, "kind": r.kind, "at": r.at.isoformat(),
                     "detail": r.detail, "evidence": json.loads(r.evidence)}
                    for r in list_incidents(session, limit)]
    except Exception as exc:
        _die("无法读取事件", f"cannot read incidents: {exc.__class__.__name__}: {exc}")
    finally:
        ctx.close()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        typer.echo("没有事件 / no incidents")
    for r in rows:
        typer.echo(f"#{r['id']} {r['at']} {r['origin']} {r['kind']}: {r['detail']}")
