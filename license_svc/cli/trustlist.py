"""`license-svc trust-list show|verify|publish|sync|withdraw` (docs/federation.md, docs/api.md).

- `show [FILE]`: a trust list, federation list or scenario list (yrd-scenarios/1, told apart by
  its schema) in readable form (without FILE: what this node publishes now; `--federation`,
  `--scenarios`).  Shows; does not judge — use `verify`.
- `verify FILE [--at ISO] [--federation LOTL.json] [--json]`: exit 0 TOTAL_PASSED, 1 TOTAL_FAILED,
  2 INDETERMINATE (unknown signer, stale beyond the grace), 3 unreadable input or usage.
  A federation list or a scenario list is checked against the federation root in the key store; a trust list
  against the signers named by `--federation` (itself checked first), else the key store's
  trust-list certificates for the list's region.
- `publish [--federation | --scenarios] [--out FILE]`: write the signed JSON (the same bytes the node serves).
- `sync`: one sync round against the peers (LICENSE_SVC_PEERS); `withdraw SHA256 --reason`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import timedelta
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die as _die, parse_time as _moment

trust_app = typer.Typer(help="跨地区信任列表 / cross-region trust lists")
app.add_typer(trust_app, name="trust-list")


def _settings(region: str | None):
    from license_svc.config import ConfigError, load_settings

    try:
        settings = load_settings(**({"region": region} if region else {}))
        settings.check_keys_allowed()
    except ConfigError as exc:
        _die(exc.message_zh, exc.message_en)
    return settings


def _context(region: str | None):
    """A context on a migrated database: publishing records each list's sequence there."""
    from license_svc.context import AppContext
    from license_svc.db import upgrade

    settings = _settings(region)
    try:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        upgrade(settings)
    except Exception as exc:  # database unreachable or not writable: environment problem
        _die("数据库不可用", f"database unavailable: {exc.__class__.__name__}: {exc}")
    return AppContext.create(settings)


def _keystore(region: str | None):
    from license_svc.context import load_keystore
    from formats.errors import ServiceError

    try:
        return load_keystore(_settings(region))
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)


def _read_envelope(path: Path):
    from formats.envelope import EnvelopeError, parse_json

    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        _die(f"无法读取文件 {path}", f"cannot read {path}: {exc.strerror}")
    try:
        envelope = parse_json(data)
    except EnvelopeError as exc:
        _die(exc.message_zh, exc.message_en)
    payload = envelope.get("payload") if isinstance(envelope, dict) else None
    if not isinstance(payload, dict) or not isinstance(envelope.get("signature"), dict):
        _die("不是签名信任列表（缺少 payload 或 signature）",
             "not a signed list (no payload or signature)")
    return envelope


def _publish(ctx, federation: bool, scenarios: bool = False):
    from license_svc.federation.publish import (current_federation_list, current_scenario_list,
                                                current_trust_list, published)
    from formats.errors import ServiceError

    build = current_scenario_list if scenarios else \
        current_federation_list if federation else current_trust_list
    try:
        return published(ctx, build)
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)


# -- show -------------------------------------------------------------------------------------

def _describe(envelope: dict) -> str:
    import base64

    from asn1crypto import x509

    p = envelope["payload"]
    lines = []
    if p.get("schema") == "yrd-scenarios/1":
        lines.append(f"应用场景清单 / scenario list (yrd-scenarios/1)  序号 sequence {p.get('sequence')}")
    elif p.get("schema") == "yrd-lotl/1":
        lines.append(f"联盟信任列表 / federation list (yrd-lotl/1)  序号 sequence {p.get('sequence')}")
    else:
        lines.append(f"信任列表 / trust list ({p.get('schema')})  地区 region {p.get('region')}  "
                     f"序号 sequence {p.get('sequence')}")
    lines.append(f"  签发 issued_at {p.get('issued_at')}   下次更新 next_update {p.get('next_update')}")

    def subject(b64) -> str:
        try:
            der = base64.b64decode(b64)
            name = x509.Certificate.load(der).subject.native.get("common_name", "?")
            return f"{name}  sha256:{hashlib.sha256(der).hexdigest()[:16]}…"
        except Exception:  # show must not die on a broken certificate: verify reports it
            return "(无法解析的证书 / unparseable certificate)"
    for r in p.get("regions", []) if isinstance(p.get("regions"), list) else []:
        if not isinstance(r, dict):
            continue
        lines.append(f"  [{r.get('region')}] {r.get('name')}  {r.get('node_url')}")
        for c in r.get("trust_list_signers", []) or []:
            lines.append(f"      信任列表签名者 signer: {subject(c)}")
    for e in p.get("entries", []) if isinstance(p.get("entries"), list) else []:
        if not isinstance(e, dict):
            continue
        mark = "有效 granted" if e.get("status") == "granted" else "已撤销 withdrawn"
        lines.append(f"  {str(e.get('role')):<15} {str(e.get('algorithm')):<4} {mark:<14} "
                     f"since {e.get('since')}  {e.get('org_name')} {e.get('org_code')}")
        lines.append(f"      {subject(e.get('cert'))}")
    for m in p.get("matters", []) if isinstance(p.get("matters"), list) else []:
        if not isinstance(m, dict):
            continue
        types, regions = m.get("licence_types"), m.get("regions")
        lines.append(f"  {m.get('matter_code')}  {m.get('name')}")
        lines.append(f"      证照类型 licence types: "
                     f"{', '.join(map(str, types)) if isinstance(types, list) else types}")
        lines.append(f"      开通地区 regions: "
                     f"{', '.join(map(str, regions)) if isinstance(regions, list) else regions}")
    if "recognised_types" in p:
        lines.append(f"  互认证照类型 recognised types: {', '.join(map(str, p['recognised_types']))}")
    sig = envelope.get("signature", {})
    lines.append(f"  签名 signature: {sig.get('alg')} by {subject(sig.get('cert'))}")
    return "\n".join(lines)


@trust_app.command("show")
def show(file: Path = typer.Argument(None, help="a signed list (JSON); default: this node's list"),
         federation: bool = typer.Option(False, "--federation", help="the federation list"),
         scenarios: bool = typer.Option(False, "--scenarios", help="the scenario list (应用场景清单)"),
         as_json: bool = typer.Option(False, "--json", help="print the signed JSON"),
         region: str = typer.Option(None, "--region")):
    """显示信任列表 / show a trust list in readable form (not a verification)."""
    if file is not None:
        envelope = _read_envelope(file)
    else:
        ctx = _context(region)
        try:
            envelope = _publish(ctx, federation, scenarios).envelope
        finally:
            ctx.close()
    typer.echo(json.dumps(envelope, ensure_ascii=False, indent=2) if as_json else _describe(envelope))


# -- verify -----------------------------------------------------------------------------------

@trust_app.command("verify")
def verify(file: Path = typer.Argument(..., help="a signed trust list or federation list; - for stdin"),
           at: str = typer.Option(None, "--at", help="as of this ISO time (default now)"),
           federation_file: Path = typer.Option(None, "--federation",
                                                help="federation list naming the trust-list signers"),
           grace_hours: float = typer.Option(24.0, "--grace-hours", help="grace beyond next_update"),
           as_json: bool = typer.Option(False, "--json"),
           region: str = typer.Option(None, "--region")):
    """验证信任列表签名与时效 / verify a trust list, federation list or scenario list (exit 0/1/2/3)."""
    from license_svc.federation.sync import pinned_roots
    from verification.checks import TrustListCheck
    from verification.report import exit_code
    from verification.scenarios import SCENARIOS_SCHEMA, verify_scenario_list
    from verification.trustlist import (LOTL_SCHEMA, trust_list_signers, verify_federation_list,
                                        verify_trust_list)

    moment = _moment(at)
    grace = timedelta(hours=grace_hours)
    envelope = _read_envelope(file)
    ks = _keystore(region)
    roots = pinned_roots(ks)
    if envelope["payload"].get("schema") == SCENARIOS_SCHEMA:
        result = verify_scenario_list(envelope, roots, moment, grace=grace)
    elif envelope["payload"].get("schema") == LOTL_SCHEMA:
        result = verify_federation_list(envelope, roots, moment, grace=grace)
    else:
        claimed = envelope["payload"].get("region")
        if federation_file is not None:
            lotl = verify_federation_list(_read_envelope(federation_file), roots, moment, grace=grace)
            if not lotl.usable:
                typer.echo(lotl.report.to_text(), err=True)
                _die("联盟列表未通过验证", "the federation list does not verify", 1)
            signers = trust_list_signers(lotl.payload, claimed) if isinstance(claimed, str) else []
        else:
            signers = [ks.certificate(i["id"]) for i in ks.items(role="trust_list")
                       if i["region"] == claimed]
        result = verify_trust_list(envelope, signers, moment,
                                   region=claimed if isinstance(claimed, str) else None, grace=grace)
    fmt = result.report.check(TrustListCheck.ENVELOPE_FORMAT)
    if fmt is not None and not fmt.passed:
        _die("无法读取签名封装", f"unreadable envelope: {fmt.detail}")
    typer.echo(result.report.to_json() if as_json else result.report.to_text())
    raise typer.Exit(exit_code(result.report))


# -- publish, sync, withdraw -------------------------------------------------------------------

@trust_app.command("publish")
def publish(out: Path = typer.Option(None, "--out", help="write here (default: stdout)"),
            federation: bool = typer.Option(False, "--federation",
                                            help="the federation list (needs the federation root key)"),
            scenarios: bool = typer.Option(False, "--scenarios",
                                           help="the scenario list (needs the federation root key)"),
            region: str = typer.Option(None, "--region")):
    """签发并输出信任列表 / sign (when due) and write this node's list, as served over HTTP."""
    ctx = _context(region)
    try:
        pub = _publish(ctx, federation, scenarios)
    finally:
        ctx.close()
    if out is None:
        sys.stdout.buffer.write(pub.body + b"\n")
        return
    try:
        out.write_bytes(pub.body)
    except OSError as exc:
        _die(f"无法写入 {out}", f"cannot write {out}: {exc.strerror}")
    typer.echo(f"已写入 {out}（序号 {pub.sequence}，ETag {pub.etag}）/ written, sequence {pub.sequence}",
               err=True)


@trust_app.command("sync")
def sync_command(region: str = typer.Option(None, "--region"),
                 as_json: bool = typer.Option(False, "--json")):
    """从各地区节点同步信任列表 / fetch and check every region's list once (LICENSE_SVC_PEERS)."""
    from license_svc.federation.sync import sync, trust_state

    ctx = _context(region)
    try:
        outcomes = sync(ctx)
        with ctx.unit_of_work() as session:
            state = trust_state(ctx, session)
    finally:
        ctx.close()
    if as_json:
        typer.echo(json.dumps({"outcomes": [o.as_dict() for o in outcomes],
                               "trust": state.as_dict()}, ensure_ascii=False, indent=2))
    else:
        for o in outcomes:
            typer.echo(f"{o.kind:<10} {o.region:<10} {o.outcome:<12} seq={o.sequence} {o.url or ''}"
                       + (f"\n    {o.detail}" if o.detail else ""))
        usable = sorted(r for r, res in state.regions.items() if res.ok)
        typer.echo(f"可用 usable: {', '.join(usable) or '-'}; "
                   f"请稍后重试 unavailable: {', '.join(state.unavailable()) or '-'}")
    raise typer.Exit(0 if not state.unavailable() else 2)


@trust_app.command("withdraw")
def withdraw_command(cert_sha256: str = typer.Argument(..., help="SHA-256 (hex) of the certificate DER"),
                     reason: str = typer.Option(..., "--reason"),
                     since: str = typer.Option(None, "--since", help="ISO time (default now)"),
                     region: str = typer.Option(None, "--region")):
    """撤销本区域信任列表中的证书 / list one of this region's certificates as withdrawn."""
    from license_svc.federation.publish import withdraw
    from formats.errors import ServiceError

    ctx = _context(region)
    try:
        with ctx.unit_of_work() as session:
            row = withdraw(ctx, session, cert_sha256, reason=reason,
                           since=_moment(since) if since else ctx.now())
            typer.echo(f"已撤销 withdrawn since {row.since.isoformat()}: {row.cert_sha256}")
    except ServiceError as exc:
        _die(exc.message_zh, exc.message_en)
    finally:
        ctx.close()
