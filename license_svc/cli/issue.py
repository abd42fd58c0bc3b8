"""`license-svc issue` and `license-svc qr`: issuance and QR codes offline, on the local database.

Whoever runs these has the node's keys and database, so the command acts as the issuing
organisation itself (client id `cli`) — still through the same domain functions, checks and
audit entries as the HTTP API.  Exit codes: 0 done, 1 refused (bad data, not allowed),
3 unreadable input or usage.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.config import ConfigError, load_settings
from formats.errors import ServiceError

CLI_CLIENT_ID = "cli"
FORMATS = ("pdf", "ofd", "both")


def _fail(en: str, zh: str, code: int) -> None:
    typer.echo(f"{zh}\n{en}", err=True)
    raise typer.Exit(code)


def _context(region: str | None):
    from license_svc.bootstrap import bootstrap

    try:
        return bootstrap(load_settings(region=region), seed=False)
    except ConfigError as exc:
        _fail(exc.message_en, exc.message_zh, 3)


def _operator(ctx, licence_type: str | None, org_code: str | None, roles=("issuer",)):
    """The local operator as an auth principal: the organisation that issues `licence_type`."""
    from license_svc.auth.clients import Client

    if org_code is None and licence_type is not None:
        orgs = [o.code for o in ctx.keystore.organisations(ctx.region) if licence_type in o.licence_types]
        if not orgs:
            _fail(f"no organisation in region {ctx.region} issues {licence_type!r}",
                  f"区域 {ctx.region} 没有签发“{licence_type}”的机构", 1)
        org_code = orgs[0]
    return Client(client_id=CLI_CLIENT_ID, name="license-svc CLI", org_code=org_code or "",
                  region=ctx.region, roles=frozenset(roles))


@app.command("issue")
def issue_command(
        licence_type: str = typer.Option(..., "--type", help="证照类型 / template folder, e.g. business_licence"),
        data: Path = typer.Option(..., "--data", help="申请数据 / request JSON (see license_svc/licence_types/*/example.json)"),
        region: str = typer.Option(None, "--region", help="sh | js | zj | ah"),
        algorithm: str = typer.Option("sm2", "--alg", help="sm2 | rsa"),
        org: str = typer.Option(None, "--org", help="颁发机构代码 / issuing organisation USCC"),
        out: Path = typer.Option(Path("."), "--out", help="输出目录 / output directory"),
        fmt: str = typer.Option("pdf", "--format", help="pdf | ofd | both: 版式文件 / the file(s) "
                                "to write besides <id>.json")) -> None:
    """离线签发证照 / issue a licence into the local database; writes <id>.pdf and/or <id>.ofd,
    and <id>.json."""
    from license_svc.licences import artefacts, lifecycle, retrieve
    from license_svc.licences import issue as issuing

    if fmt not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}", f"--format 须为 {'、'.join(FORMATS)} 之一", 3)

    try:
        body = json.loads(data.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {data}: {exc}", f"无法读取申请数据文件 {data}", 3)
    if not isinstance(body, dict):
        _fail(f"{data} must hold a JSON object", f"{data} 必须是 JSON 对象", 3)
    body = {**body, "type": licence_type, "algorithm": algorithm}
    ctx = _context(region)
    try:
        actor = _operator(ctx, licence_type, org or body.get("issuer_code"))
        ident = issuing.issue(ctx, actor, body).identifiers[0]
        with ctx.unit_of_work() as session:
            version = lifecycle.load_version(session, ident)
            view = retrieve.licence_view(ctx, session, version)
            ofd = artefacts.stored_ofd(ctx, session, version) if fmt != "pdf" else None
    except ServiceError as exc:
        _fail(exc.message_en, exc.message_zh, 1)
    finally:
        ctx.close()
    out.mkdir(parents=True, exist_ok=True)
    if fmt != "ofd":
        (out / f"{ident}.pdf").write_bytes(version.pdf)
    if ofd is not None:
        (out / f"{ident}.ofd").write_bytes(ofd)
    (out / f"{ident}.json").write_text(json.dumps(view, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    typer.echo(ident)  # stdout: the identifier alone, for scripts (ID=$(license-svc issue …))
    typer.echo(_summary(view, out, ident, fmt), err=True)


def _summary(view: dict, out: Path, ident: str, fmt: str) -> str:
    """What an officer checks after issuing, on stderr: which licence, whose (masked as the
    privacy rules say), how long, and the files written."""
    from formats.privacy import mask_id_numbers

    record = (view.get("signed_record") or {}).get("payload") or {}
    holders = "、".join(mask_id_numbers(h.get("name", "")) for h in record.get("holders", []))
    until = record.get("valid_until") or "长期 / no end"
    files = [f"{ident}.{ext}" for ext in (("pdf",) if fmt == "pdf" else ("ofd",) if fmt == "ofd"
                                         else ("pdf", "ofd"))] + [f"{ident}.json"]
    return (f"已签发 / issued: {record.get('type_name', '')} {record.get('number', '')}，持证人 / holder "
            f"{holders}，有效期 / valid {record.get('valid_from', '')} – {until}，"
            f"{(record.get('issuer') or {}).get('name', '')}\n"
            + "\n".join(f"  {out / f}" for f in files))


@app.command("qr")
def qr_command(identifier: str = typer.Argument(..., help="证照标识 / licence identifier"),
               present: bool = typer.Option(False, "--present", help="亮证码 EP1 (≤60 s) instead of EL1"),
               out: Path = typer.Option(None, "--out", help="PNG file to write"),
               text: bool = typer.Option(False, "--text", help="print the QR text"),
               region: str = typer.Option(None, "--region")) -> None:
    """证照二维码 / a licence's EL1 QR (or an EP1 presentation with --present)."""
    from license_svc.licences import retrieve
    from signing.qr import image as qr_image
    from signing.qr.credentials import make_ep1

    ctx = _context(region)
    try:
        actor = _operator(ctx, None, None, roles=("admin",))
        with ctx.unit_of_work() as session:
            version = retrieve.open_licence(ctx, session, identifier, actor, "qr")
        code = version.el1
        if present:
            node = ctx.keystore.credential(ctx.region, "node", "sm2")
            code, _cti = make_ep1(node.key, node.cert.dump(), region=ctx.region, el1=code,
                                  now=ctx.now())
        if out is not None:
            out.write_bytes(qr_image.png(code))
    except ServiceError as exc:
        _fail(exc.message_en, exc.message_zh, 1)
    finally:
        ctx.close()
    if text or out is None:
        typer.echo(code)
