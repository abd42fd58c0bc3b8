"""Backups a node can be rebuilt from: the database, taken as one consistent snapshot while the
service runs, and the region's holder-reference secret (without it the restored access log
cannot be searched by holder: `audit/holder.py`).  Keys are not in a backup — they come from
the key ceremony (docs/operations.md) and are restored from their own escrow.

A backup is a folder:

    manifest.json       license-svc-backup/1: region, time, database kind, schema revisions,
                        row counts and the latest signed audit checkpoint, all from the same
                        snapshot as the dump; the SHA-256 of every file
    database.sqlite     (SQLite) an online copy by SQLite's backup API
    database.dump       (PostgreSQL) `pg_dump --format=custom --snapshot=…`
    secrets/…           the holder-reference secret

Restoring refuses a database that already has tables, then proves what it restored: the counts
match the manifest, and the restored audit log, exported and verified as an auditor would
(`verification.audit.verify_export`), is consistent with the checkpoint in the manifest — so a
node that goes on from a restore extends the same log, never a fork of it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from formats.canonical_json import iso_time
from formats.errors import ServiceError
from license_svc.audit.holder import secret_path
from license_svc.config import Settings
from license_svc.db import current_heads, make_engine

FORMAT = "license-svc-backup/1"
COUNTED = ("licence_versions", "licence_events", "audit_entries", "audit_checkpoints", "grants",
           "seals", "api_clients")


class BackupError(ServiceError):
    code = "backup-failed"
    kind = "invalid"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _snapshot_facts(conn) -> dict:
    """Counts and the latest checkpoint, read on `conn` (inside the snapshot being dumped)."""
    counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED}
    row = conn.execute(text("SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")).first()
    heads = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
    return {"counts": counts, "schema_heads": heads,
            "checkpoint": None if row is None else {"size": row[0], "note": row[1]}}


def create_backup(settings: Settings, out: Path, *, now) -> dict:
    """Write a backup of the node described by `settings` into the new folder `out`."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"backup folder {out} is not empty", f"备份目录 {out} 不是空的")
    out.mkdir(parents=True, exist_ok=True)
    url = settings.database_url
    if url.startswith("sqlite"):
        kind, dump = "sqlite", out / "database.sqlite"
        src = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(dump)
            src.backup(dst)  # an online copy: consistent although writers go on
            dst.close()
        finally:
            src.close()
        engine = make_engine(f"sqlite:///{dump}")
        try:
            with engine.connect() as conn:
                facts = _snapshot_facts(conn)
        finally:
            engine.dispose()
    else:
        kind, dump = "postgresql", out / "database.dump"
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                # The counts and the dump see the same snapshot: export it and hand it to pg_dump
                # while this transaction stays open.
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                facts = _snapshot_facts(conn)
                _run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                      f"--file={dump}", _libpq_url(url)], "pg_dump")
                conn.rollback()
        finally:
            engine.dispose()
    files = {dump.name: _sha256(dump)}
    secret = secret_path(settings)
    if secret.exists():
        (out / "secrets").mkdir()
        shutil.copy2(secret, out / "secrets" / secret.name)
        files[f"secrets/{secret.name}"] = _sha256(out / "secrets" / secret.name)
    manifest = {"format": FORMAT, "region": settings.region, "created_at": iso_time(now),
                "database": kind, "files": files, **facts}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    return manifest


def _run(cmd: list[str], what: str) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"{what} not found (install postgresql-client)",
                          f"未找到 {what}（请安装 postgresql-client）") from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[:500]}", f"{what} 执行失败")


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable manifest.json in {folder}: {exc}",
                          f"{folder} 中没有可读的 manifest.json") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"not a {FORMAT} backup", f"不是 {FORMAT} 格式的备份")
    for name, digest in manifest.get("files", {}).items():
        path = Path(folder) / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"backup file {name} is missing or damaged (SHA-256 differs)",
                              f"备份文件 {name} 缺失或已损坏（SHA-256 不符）")
    return manifest


def restore_backup(settings: Settings, folder: Path, ctx_factory) -> dict:
    """Restore `folder` into the (empty) database and data folder of `settings`, then prove it:
    counts as in the manifest, and an audit export consistent with the manifest's checkpoint.
    `ctx_factory(settings)` builds the context whose key store checks the log's signatures."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest["region"] != settings.region:
        raise BackupError(f"backup of region {manifest['region']}, not {settings.region}",
                          f"这是区域 {manifest['region']} 的备份，不是 {settings.region}")
    url = settings.database_url
    engine = make_engine(url)
    try:
        if inspect(engine).get_table_names():
            raise BackupError("the target database is not empty; restore into a new one",
                              "目标数据库不是空的，请恢复到新建的数据库")
    finally:
        engine.dispose()
    if manifest["database"] == "sqlite":
        if not url.startswith("sqlite"):
            raise BackupError("a SQLite backup restores into SQLite", "SQLite 备份只能恢复到 SQLite")
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / "database.sqlite", target)
    else:
        if url.startswith("sqlite"):
            raise BackupError("a PostgreSQL backup restores into PostgreSQL",
                              "PostgreSQL 备份只能恢复到 PostgreSQL")
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq_url(url)}",
              str(folder / "database.dump")], "pg_restore")
    for name in manifest["files"]:
        if name.startswith("secrets/"):
            dest = secret_path(settings)
            if dest.exists() and dest.read_bytes() != (folder / name).read_bytes():
                raise BackupError(f"{dest} exists with a different secret",
                                  f"{dest} 已存在且内容不同，拒绝覆盖")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / name, dest)
    return check_restored(settings, manifest, ctx_factory)


def check_restored(settings: Settings, manifest: dict, ctx_factory) -> dict:
    from license_svc.audit.checkpoint import log_signer, origin_for
    from license_svc.audit.export import export_log
    from verification.audit import load_export, verify_export

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            facts = _snapshot_facts(conn)
        heads = sorted(current_heads(engine))
    finally:
        engine.dispose()
    if facts["counts"] != manifest["counts"] or heads != manifest["schema_heads"]:
        raise BackupError(f"restored database differs from the backup: {facts['counts']} "
                          f"!= {manifest['counts']}", "恢复后的数据库与备份记录的行数不一致")
    ctx = ctx_factory(settings)
    try:
        key = log_signer(ctx.keystore, settings.region).verifier_key
        with tempfile.TemporaryDirectory(prefix="license-svc-restore-") as tmp, ctx.unit_of_work() as session:
            export_log(session, Path(tmp) / "audit.json", origin=origin_for(settings.region),
                       log_keys=[key], now=ctx.now())
            extra = ([("backup manifest", manifest["checkpoint"]["note"].encode("utf-8"))]
                     if manifest["checkpoint"] else [])
            report = verify_export(load_export(Path(tmp) / "audit.json"), [key], extra_checkpoints=extra)
    finally:
        ctx.close()
    if report.indication != "TOTAL_PASSED":
        raise BackupError(f"the restored audit log does not verify: {report.to_text()[:800]}",
                          "恢复后的审计日志验证未通过")
    return {"counts": facts["counts"], "audit": report.indication,
            "checkpoint_size": (manifest["checkpoint"] or {}).get("size", 0)}
