"""`license-svc verify PATH | --qr TEXT [--json] [--at ISO-TIME] [--html OUT]
[--federation FILE --trust-list FILE… | --node URL] [--trust-root CERT…]`.

Trust comes from signed trust lists, as on a node (license_svc.federation.offline): the files
given, or those a node serves (`--node`), or the lists this machine's node has synced; on the
all-regions development store with none of these, lists signed in memory from its keys.  The
federation list is checked against the key store's pinned federation root.  Licence status from
the local database when it exists (never created or migrated by this command, and nothing is
written to it), and from peer nodes' signed status when LICENSE_SVC_PEERS names them.  Without
any status source the report says the status was not checked.

Exit codes follow the verdict (docs/verification.md "Exit codes"): 0 only for a valid licence,
1 for one that must not be accepted (invalid, revoked, expired or suspended), 2 when it cannot
be told (including "not a licence code"), 3 unreadable input or usage.
"""

from __future__ import annotations

import logging
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


def _lists(offline, ks, settings, session, peer_client, federation, trust_lists, node, moment):
    """The verified trust lists this verification may use, from the first source given."""
    if federation:
        return offline.from_files(ks, federation, list(trust_lists), moment)
    if node:
        return offline.from_node(ks, peer_client, node, settings.peers, moment)
    local = offline.from_local_node(session, ks, moment) if session is not None else None
    if local is None:
        local = offline.development_lists(ks, moment)
    if local is None:
        raise offline.TrustListSourceError(
            "no trust lists: give --federation and --trust-list files, or --node URL, or run "
            "`license-svc trust-list sync` on this node first",
            "没有可用的信任列表：请提供 --federation 与 --trust-list 文件，或 --node 节点地址，"
            "或先在本节点运行 license-svc trust-list sync")
    return local


# Libraries that log every failed path build or diff with a traceback (Python's last-resort
# handler prints them on stderr): the report already says what failed and why.
_NOISY_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


def _quiet_libraries() -> None:
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@app.command("verify")
def verify_command(
        path: str = typer.Argument(None, help="PDF, OFD, .esl/.dat, QR image, or a text file; - for stdin"),
        qr: str = typer.Option(None, "--qr", help="二维码文本 / scanned QR text (EL1:…, EP1:… or EP2:…)"),
        as_json: bool = typer.Option(False, "--json", help="JSON report (docs/api.md)"),
        at: str = typer.Option(None, "--at", help="verify as of this ISO time (default now)"),
        html: Path = typer.Option(None, "--html", help="also write the report as an HTML page"),
        region: str = typer.Option(None, "--region", help="this node's region (local register)"),
        trust_list: list[Path] = typer.Option(None, "--trust-list",
                                              help="信任列表文件（可多次）/ a region trust list (repeatable)"),
        federation: Path = typer.Option(None, "--federation", help="联盟列表文件 / the federation list"),
        node: str = typer.Option(None, "--node", help="从节点获取并验证列表 / fetch the lists from a node"),
        trust_root: list[Path] = typer.Option(None, "--trust-root", help="本次验证临时信任的 CA 证书（PEM 或 "
                                              "DER，可多次）/ trust this CA for this verification "
                                              "(repeatable; license_svc/trust_roots.py)")):
    """验证电子证照、印章或二维码 / verify a licence PDF, OFD, seal file or QR code.

    退出码 / exit status: 0 有效 valid; 1 无效、已撤销、已过期或已暂停 invalid, revoked,
    expired or suspended; 2 无法确定 undetermined; 3 无法读取或用法错误 unreadable input or usage
    (docs/verification.md).
    """
    from license_svc.config import ConfigError, load_settings
    from license_svc.context import load_keystore
    from license_svc.federation.peer_client import PeerClient
    from license_svc.federation import offline
    from license_svc.verify_service import http_fetchers, verifier_trust_from_lists, verify_offline
    from formats.errors import ServiceError
    from verification.dispatch import TimeOutOfRange, UnreadableInput, check_moment
    from verification.html import to_html
    from verification.report import exit_code
    from verification.status import StatusCache

    _quiet_libraries()
    if (path is None) == (qr is None):
        _die("请给出一个文件路径或 --qr 文本（二者取其一）", "give a PATH or --qr TEXT (exactly one)")
    moment = _moment(at)
    try:
        check_moment(moment)
    except TimeOutOfRange as exc:
        _die(exc.message_zh, exc.message_en)
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
    if (trust_list or federation) and not (trust_list and federation):
        _die("--trust-list 与 --federation 须同时给出", "--trust-list needs --federation (and back)")
    if node and federation:
        _die("--node 与 --federation 只能选一个", "give --node or --federation, not both")
    from license_svc import trust_roots

    try:
        roots = trust_roots.load_trust_roots(trust_root or ())
    except (OSError, ServiceError) as exc:
        _die("无法读取 --trust-root 证书", f"cannot read a --trust-root certificate: {exc}")
    remote = None
    peers = PeerClient() if settings.peers or node else nullcontext()
    with peers as peer_client, _local_register(settings) as session:
        try:
            lists = _lists(offline, ks, settings, session, peer_client, federation, trust_list,
                           node, moment)
        except ServiceError as exc:
            if not roots:
                _die(exc.message_zh, exc.message_en)
            # A foreign document judged against the given roots needs no federation lists
            # (which may not even be valid at an `--at` in the past): say why they were not used.
            lists = offline.OfflineLists(source="--trust-root",
                                         problems=[f"{exc.message_zh} / {exc.message_en}"])
        trust = verifier_trust_from_lists(lists.payloads)
        if roots:
            trust = trust_roots.with_trust_roots(trust, roots)
        if peer_client is not None and not roots:
            # Asked to go online (--node, or LICENSE_SVC_PEERS): status from the issuing
            # regions' nodes, at the addresses the verified federation list gives.
            status_peers = {**(lists.node_urls if node else {}), **settings.peers}
            fetch_list, fetch_response = http_fetchers(peer_client, status_peers)
            remote = StatusCache(trust.status, clock=lambda: moment,
                                 fetch_list=fetch_list, fetch_response=fetch_response)
        try:
            report = verify_offline(ks, data, text=qr, at=moment, region=settings.region,
                                    session=None if roots else session, remote=remote,
                                    trust=trust)
        except UnreadableInput as exc:
            _die(exc.message_zh, exc.message_en)
    report.notes.append(f"信任来源 / trust from: {lists.source}")
    report.notes.extend(trust_roots.notes(roots))
    report.notes.extend(f"未采用的信任列表 / list not used: {p}" for p in lists.problems)
    typer.echo(report.to_json() if as_json else report.to_text())
    if html is not None:
        try:
            html.write_text(to_html(report, generated_at=moment), encoding="utf-8")
        except OSError as exc:
            _die(f"无法写入 {html}", f"cannot write {html}: {exc.strerror}")
    raise typer.Exit(exit_code(report))
