"""`license-svc backup create|restore`: the database (one consistent snapshot, taken while the
service runs) and the holder-reference secret; restore proves what it restored
(license_svc/backup.py, docs/operations.md "Backup and restore")."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die

backup_app = typer.Typer(help="备份与恢复 / backup and restore")
app.add_typer(backup_app, name="backup")


def _settings(region: str | None):
    from license_svc.config import ConfigError, load_settings

    try:
        return load_settings(**({"region": region} if region else {}))
    except ConfigError as exc:
        die(exc.message_zh, exc.message_en)


@backup_app.command("create")
def create(out: Path = typer.Option(..., "--out", help="a new (or empty) folder"),
           region: str = typer.Option(None, "--region", help="sh | js | zj | ah")):
    """备份数据库与持证人引用密钥 / back up the database and the holder-reference secret."""
    from formats.errors import ServiceError
    from license_svc.backup import create_backup

    try:
        manifest = create_backup(_settings(region), out, now=datetime.now(timezone.utc))
    except ServiceError as exc:
        die(exc.message_zh, exc.message_en, code=1)
    cp = manifest["checkpoint"] or {"size": 0}
    typer.echo(f"已备份到 {out}：{manifest['counts']['licence_versions']} 个证照版本，审计日志检查点大小 "
               f"{cp['size']} / backed up to {out}: {manifest['counts']['licence_versions']} licence "
               f"versions, audit checkpoint at size {cp['size']}")


@backup_app.command("restore")
def restore(folder: Path = typer.Argument(..., help="a folder written by `backup create`"),
            region: str = typer.Option(None, "--region", help="sh | js | zj | ah")):
    """恢复到空数据库并验证 / restore into an empty database, then verify counts and audit log."""
    from formats.errors import ServiceError
    from license_svc.backup import restore_backup
    from license_svc.context import AppContext

    try:
        done = restore_backup(_settings(region), folder, AppContext.create)
    except ServiceError as exc:
        die(exc.message_zh, exc.message_en, code=1)
    typer.echo(f"已恢复并验证：审计日志 {done['audit']}，与备份检查点（大小 {done['checkpoint_size']}）一致 / "
               f"restored and verified: audit log {done['audit']}, consistent with the backup's "
               f"checkpoint at size {done['checkpoint_size']}")
