"""`license-svc audit export|verify|checkpoint`: take the log away, check it offline, sign now.

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


@audit_app.command("verify")
def verify(path: Path = typer.Argument(..., help="export directory or .json file"),
           as_json: bool = typer.Option(False, "--json", help="machine-readable report"),
           key: list[Path] = typer.Option([], "--key", help="audit-log public key or certificate "
                                          "(PEM/DER); default: the region's key from the key store"),
           checkpoint: list[Path] = typer.Option([], "--checkpoint", help="a checkpoint note kept "
                                                 "earlier (repeatable); it must match the export too"),
           no_keystore: bool = typer.Option(False, "--no-keystore",
                                            help="do not look the key up in the key store")):
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
    report = verify_export(bundle, _trusted_keys(bundle.origin, key, not no_keystore),
                           extra_checkpoints=extra)
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
