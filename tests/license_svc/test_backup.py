"""Backup while licences are being issued, restore into a new database, and go on: nothing that
was committed before the snapshot is lost, the restored audit log verifies and is consistent
with the backup's checkpoint, and the log a restored node keeps writing extends it (SQLite here;
PostgreSQL when LICENSE_SVC_TEST_DATABASE_URL is set, through pg_dump/pg_restore)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from license_svc import audit
from license_svc.audit.checkpoint import log_signer, origin_for
from license_svc.audit.export import export_log
from license_svc.audit.holder import secret_path
from license_svc.backup import BackupError, create_backup, restore_backup
from license_svc.licences.issue import issue
from license_svc.licences.models import LicenceVersion
from tests.conftest import PG_URL
from tests.support.issuing import example
from verification.audit import load_export, verify_export


@pytest.fixture
def empty_database(tmp_path):
    """Settings for a restore target: a new data folder and a database with no tables."""
    made = []

    def make(settings):
        data_dir = tmp_path / f"restored-{len(made)}"
        data_dir.mkdir()
        if not PG_URL:
            url = f"sqlite:///{data_dir / f'license-svc-{settings.region}.db'}"
        else:
            base = make_url(PG_URL)
            name = f"{base.database}_restore_{uuid.uuid4().hex[:10]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            made.append((admin, name))
            url = base.set(database=name).render_as_string(hide_password=False)
        return replace(settings, data_dir=data_dir, database_url=url)

    yield make
    for admin, name in made:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _identifiers(ctx) -> set[str]:
    with ctx.unit_of_work() as session:
        return set(session.scalars(select(LicenceVersion.identifier)))


def _verify_log(ctx, tmp: Path, kept_checkpoint: str):
    key = log_signer(ctx.keystore, ctx.region).verifier_key
    with ctx.unit_of_work() as session:
        export_log(session, tmp, origin=origin_for(ctx.region), log_keys=[key], now=ctx.now())
    return verify_export(load_export(tmp), [key],
                         extra_checkpoints=[("kept from the backup", kept_checkpoint.encode())])


def test_backup_under_load_restores_every_committed_licence_and_the_log_goes_on(
        ctx, ctx_factory, amr, empty_database, tmp_path):
    before = {issue(ctx, amr, example("business_licence", n)).identifiers[0] for n in range(4)}
    audit.publish(ctx)
    during: list[str] = []
    stop = threading.Event()

    def writer():
        deadline = time.monotonic() + 60
        while not stop.is_set() and len(during) < 200 and time.monotonic() < deadline:
            during.append(issue(ctx, amr, example("business_licence", 4 + len(during))).identifiers[0])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(during) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        manifest = create_backup(ctx.settings, tmp_path / "backup", now=ctx.now())
    finally:
        stop.set()
        thread.join(timeout=90)
    assert manifest["counts"]["licence_versions"] >= len(before) + 2 - 0  # the writer was running

    target = empty_database(ctx.settings)
    done = restore_backup(target, tmp_path / "backup", ctx_factory)
    assert done["audit"] == "TOTAL_PASSED"
    restored_ctx = ctx_factory(target)
    restored = _identifiers(restored_ctx)
    assert before <= restored <= before | set(during)  # all committed before; nothing invented
    assert len(restored) == manifest["counts"]["licence_versions"]
    assert secret_path(target).read_bytes() == secret_path(ctx.settings).read_bytes()

    # The restored node goes on writing the same log: its new checkpoint is consistent with
    # the one the backup recorded.
    more = issue(restored_ctx, amr, example("business_licence", 300)).identifiers[0]
    audit.publish(restored_ctx)
    report = _verify_log(restored_ctx, tmp_path / "after.json", manifest["checkpoint"]["note"])
    assert report.indication == "TOTAL_PASSED", report.to_text()
    assert more in _identifiers(restored_ctx)


def test_a_damaged_backup_or_a_used_database_is_refused(ctx, ctx_factory, amr, empty_database, tmp_path):
    issue(ctx, amr, example("business_licence"))
    audit.publish(ctx)
    create_backup(ctx.settings, tmp_path / "backup", now=ctx.now())
    with pytest.raises(BackupError, match="not empty"):
        create_backup(ctx.settings, tmp_path / "backup", now=ctx.now())
    with pytest.raises(BackupError, match="not empty"):  # the live database itself
        restore_backup(ctx.settings, tmp_path / "backup", ctx_factory)
    dump = next(p for p in (tmp_path / "backup").iterdir() if p.name.startswith("database."))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="damaged"):
        restore_backup(empty_database(ctx.settings), tmp_path / "backup", ctx_factory)


def test_a_backup_whose_counts_were_altered_does_not_pass_as_restored(ctx, ctx_factory, amr,
                                                                       empty_database, tmp_path):
    issue(ctx, amr, example("business_licence"))
    audit.publish(ctx)
    create_backup(ctx.settings, tmp_path / "backup", now=ctx.now())
    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["counts"]["licence_versions"] += 1  # claims a licence the dump does not hold
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(BackupError, match="differs from the backup"):
        restore_backup(empty_database(ctx.settings), tmp_path / "backup", ctx_factory)
