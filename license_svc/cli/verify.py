"""`license-svc verify PATH | --qr TEXT [--json] [--at ISO-TIME] [--html OUT]`.

Offline: trust comes from the key store (keys_dev in development: all four regions), licence
status from the local database when it exists (never created or migrated by this command, and
nothing is written to it), and from peer nodes' signed status when LICENSE_SVC_PEERS names them.
Without any status source the report says the status was not checked.

Exit codes (DESIGN §10): 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE (including "not a
licence code"), 3 unreadable input or usage.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die as _die, parse_time as _moment


@contextmanager
def _local_register(settings):
    """A read-only session on the node's database if it exists and has licences, else None."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from license_svc.db import make_engine
    from license_svc.db.engine import make_session_factory

    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        yield None
        return
    engine = make_engine(url)
    try:
        try:
            present = "licence_versions" in inspect(engine).get_table_names()
        except SQLAlchemyError:
            present = False
        if not present:
            yield None
            return
        session = make_session_factory(engine)()
        try:
            yield session
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()


@app.command("verify")
def verify_command(
        path: str = typer.Argument(None, help="PDF, OFD, .esl/.dat, QR image, or a text file; - for stdin"),
        qr: str = typer.Option(None, "--qr", help="二维码文本 / scanned QR text (EL1:… or EP1:…)"),
        as_json: bool = typer.Option(False, "--json", help="JSON report (DESIGN §10)"),
        at: str = typer.Option(None, "--at", help="verify as of this ISO time (default now)"),
        html: Path = typer.Option(None, "--html", help="also write the report as an HTML page"),
        region: str = typer.Option(None, "--region", help="this node's region (local register)")):
    """验证电子证照、印章或二维码 / verify a licence PDF, OFD, seal file or QR code."""
    from license_svc.config import ConfigError, load_settings
    from license_svc.context import load_keystore
    from license_svc.federation.peer_client import PeerClient
    from license_svc.verify_service import http_fetchers, verifier_trust, verify_offline
    from formats.errors import ServiceError
    from verification.dispatch import UnreadableInput
    from verification.html import to_html
    from verification.report import exit_code
    from verification.status import StatusCache

    if (path is None) == (qr is None):
        _die("请给出一个文件路径或 --qr 文本（二者取其一）", "give a PATH or --qr TEXT (exactly one)")
    moment = _moment(at)
    data = None
    if path is not None:
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            _die(f"无法读取文件 {path}", f"cannot read {path}: {exc.strerror}")
    try:
        settings = load_settings(**({"region": region} if region else {}))
        settings.check_keys_allowed()
        ks = load_keystore(settings)
    except (ConfigError, ServiceError) as exc:
        _die(exc.message_zh, exc.message_en)
    trust, remote = verifier_trust(ks), None
    peers = PeerClient() if settings.peers else nullcontext()
    with peers as peer_client, _local_register(settings) as session:
        if peer_client is not None:
            fetch_list, fetch_response = http_fetchers(peer_client, settings.peers)
            remote = StatusCache(trust.status, clock=lambda: moment,
                                 fetch_list=fetch_list, fetch_response=fetch_response)
        try:
            report = verify_offline(ks, data, text=qr, at=moment, region=settings.region,
                                    session=session, remote=remote, trust=trust)
        except UnreadableInput as exc:
            _die(exc.message_zh, exc.message_en)
    typer.echo(report.to_json() if as_json else report.to_text())
    if html is not None:
        try:
            html.write_text(to_html(report, generated_at=moment), encoding="utf-8")
        except OSError as exc:
            _die(f"无法写入 {html}", f"cannot write {html}: {exc.strerror}")
    raise typer.Exit(exit_code(report))
