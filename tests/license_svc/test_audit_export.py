"""`audit export` / `audit verify`: an intact log passes; changing, deleting or reordering any entry
in the database, or a checkpoint signed over a different tree, is caught and the entry named."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from license_svc import audit
from license_svc.audit.checkpoint import NoteSigner, log_signer, sign_checkpoint
from license_svc.audit.export import export_log
from license_svc.cli import _register, app
from formats import algorithms as alg
from tests.license_svc.test_audit_log import append_many, tampering
from verification.audit import ExportFormatError, load_export, verify_export
from formats.merkle import leaf_hash, root_from_leaf_hashes
from verification.tlog import Checkpoint, NoteKey, verify_checkpoint

_register()
runner = CliRunner()
ORIGIN = "licence-audit/sh"


@pytest.fixture
def log(ctx, clock):
    """43 entries, all sequenced; checkpoints at 10, 25 and 40 (the last 3 entries not yet
    checkpointed)."""
    signer = log_signer(ctx.keystore, "sh")
    done = 0
    for size in (10, 25, 40, 43):
        append_many(ctx, size - done, start=done)
        done = size
        if size != 43:
            with ctx.unit_of_work() as s:
                audit.publish_checkpoint(s, signer, clock.advance(seconds=5))
    assert audit.sequence(ctx) == 3  # so that the tampering below finds them in audit_entries
    return signer


def export_and_verify(ctx, tmp_path, key: NoteKey | None = "trusted", *, name="export", extra=()):
    out = tmp_path / name
    signer = log_signer(ctx.keystore, "sh")
    with ctx.unit_of_work() as s:
        export_log(s, out, origin=ORIGIN, log_keys=[signer.verifier_key], now=ctx.now())
    keys = [signer.verifier_key] if key == "trusted" else (None if key is None else [key])
    return verify_export(load_export(out), keys, extra_checkpoints=extra)


def sql(ctx, statement, **params):
    with tampering(ctx), ctx.unit_of_work() as s:
        s.execute(text(statement), params)


def test_intact_log_verifies(ctx, log, tmp_path):
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_PASSED", report.to_text()
    assert report.size == 43 and report.checkpoints_verified == 3 and report.first_bad_entry is None
    assert any("40…42" in n for n in report.notes)
    single = export_and_verify(ctx, tmp_path, name="export.json")
    assert single.indication == "TOTAL_PASSED", single.to_text()


def test_changed_entry_is_named(ctx, log, tmp_path):
    with ctx.unit_of_work() as s:
        leaf = audit.get_entry(s, 17).leaf
    sql(ctx, "UPDATE audit_entries SET leaf = :leaf WHERE idx = 17",
        leaf=leaf.replace(b'"g-17"', b'"g-99"'))
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED"
    assert report.first_bad_entry == 17
    assert "entry 17 was altered" in report.check("audit.tree_roots").detail


def test_changed_entry_beyond_the_last_checkpoint_is_named(ctx, log, tmp_path):
    sql(ctx, "UPDATE audit_entries SET leaf = :leaf WHERE idx = 41", leaf=b'{"forged":true}')
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED" and report.first_bad_entry == 41


def test_deleted_entry_is_named(ctx, log, tmp_path):
    sql(ctx, "DELETE FROM audit_entries WHERE idx = 5")
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED" and report.first_bad_entry == 5
    assert "entry 5 is missing" in report.check("audit.entry_sequence").detail


def test_deleted_and_renumbered_entries_are_named(ctx, log, tmp_path):
    """Delete entry 12 and shift the later ones down so the indexes stay consecutive."""
    with ctx.unit_of_work() as s:
        leaves = [audit.get_entry(s, i).leaf for i in range(43)]
    sql(ctx, "DELETE FROM audit_entries WHERE idx >= 12")
    with ctx.unit_of_work() as s:
        for i, leaf in enumerate(leaves[13:], start=12):
            s.execute(text("INSERT INTO audit_entries (idx, leaf, time, action, outcome, actor_org) "
                           "VALUES (:i, :leaf, :t, 'licence.retrieve', 'success', 'x')"),
                      {"i": i, "leaf": leaf, "t": ctx.now()})
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED" and report.first_bad_entry == 12


def test_reordered_entries_are_named(ctx, log, tmp_path):
    with ctx.unit_of_work() as s:
        a, b = audit.get_entry(s, 8).leaf, audit.get_entry(s, 30).leaf
    sql(ctx, "UPDATE audit_entries SET leaf = :leaf WHERE idx = 8", leaf=b)
    sql(ctx, "UPDATE audit_entries SET leaf = :leaf WHERE idx = 30", leaf=a)
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED" and report.first_bad_entry == 8


def test_entry_and_its_recorded_hash_both_rewritten(ctx, log, tmp_path):
    """A careful attacker also rewrites the stored leaf hash: the checkpoints still catch it and
    the report narrows it to the entries between the last good and the first bad checkpoint."""
    forged = b'{"forged":true}'
    sql(ctx, "UPDATE audit_entries SET leaf = :leaf WHERE idx = 30", leaf=forged)
    sql(ctx, "UPDATE audit_nodes SET hash = :h WHERE level = 0 AND idx = 30", h=leaf_hash(forged))
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED"
    assert "25…39" in report.check("audit.tree_roots").detail


def test_recorded_hash_rewritten_alone(ctx, log, tmp_path):
    sql(ctx, "UPDATE audit_nodes SET hash = :h WHERE level = 0 AND idx = 3", h=b"\x01" * 32)
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED" and report.first_bad_entry == 3
    assert report.check("audit.tree_roots").passed and not report.check("audit.recorded_leaf_hashes").passed


def test_checkpoint_signed_over_a_different_tree(ctx, log, clock, tmp_path):
    """The log key signs a size-30 checkpoint of another tree (a split view shown to someone)."""
    signer = log_signer(ctx.keystore, "sh")
    other = root_from_leaf_hashes(leaf_hash(b"other %d" % i) for i in range(30))
    note = sign_checkpoint(Checkpoint(ORIGIN, 30, other), signer)
    report = export_and_verify(ctx, tmp_path, extra=[("witnessed", note)])
    assert report.indication == "TOTAL_FAILED"
    roots = report.check("audit.tree_roots")
    assert not roots.passed and "size 30" in roots.detail
    # ... and when that checkpoint sits in the database itself, the exported consistency proof
    # from 25 to 30 (made from the stored tree) cannot reach its root either
    with ctx.unit_of_work() as s:
        s.execute(text("INSERT INTO audit_checkpoints (size, root, note, created_at) "
                       "VALUES (30, :r, :n, :t)"), {"r": other, "n": note.decode(), "t": clock()})
    report = export_and_verify(ctx, tmp_path, name="e2")
    assert report.indication == "TOTAL_FAILED"
    assert not report.check("audit.checkpoint_consistency").passed
    assert "25 → 30" in report.check("audit.checkpoint_consistency").detail


def test_checkpoint_with_a_bad_signature(ctx, log, tmp_path):
    with ctx.unit_of_work() as s:
        note = s.execute(text("SELECT note FROM audit_checkpoints WHERE size = 25")).scalar()
    sql(ctx, "UPDATE audit_checkpoints SET note = :n WHERE size = 25", n=note.replace("\n25\n", "\n24\n"))
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED"
    assert report.sub_indication == "SIG_CRYPTO_FAILURE"


def test_key_trust(ctx, log, tmp_path):
    assert export_and_verify(ctx, tmp_path, key=None).indication == "INDETERMINATE"
    stranger = NoteSigner(ORIGIN, alg.generate_private_key("sm2")).verifier_key
    report = export_and_verify(ctx, tmp_path, key=stranger, name="e2")
    assert report.indication == "TOTAL_FAILED"  # no checkpoint signed by the trusted key


def test_unreadable_exports(tmp_path):
    with pytest.raises(ExportFormatError):
        load_export(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ExportFormatError):
        load_export(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"manifest": {"format": "x"}, "checkpoints": [],
                                                     "consistency": [], "entries": [], "leaf_hashes": []}))
    with pytest.raises(ExportFormatError):
        load_export(tmp_path / "other.json")
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "manifest.json").write_text('{"format": "licence-audit-export/1"}')
    with pytest.raises(ExportFormatError):
        load_export(tmp_path / "partial")


def test_hostile_rows_in_an_export_fail_cleanly(ctx, log, tmp_path):
    out = tmp_path / "export"
    export_and_verify(ctx, tmp_path)
    lines = (out / "entries.jsonl").read_text().splitlines()
    for bad in ('{"index": "7", "leaf": 1}', "[]", "garbage", '{"index": 7, "leaf": "***"}',
                '{"index": 99999999999, "leaf": ""}'):
        mutated = lines[:7] + [bad] + lines[8:]
        (out / "entries.jsonl").write_text("\n".join(mutated) + "\n")
        report = verify_export(load_export(out), [log.verifier_key])
        assert report.indication == "TOTAL_FAILED", bad
        assert report.first_bad_entry == 7, (bad, report.to_text())


def _env(ctx, tmp_path):
    s = ctx.settings
    return {"LICENSE_SVC_DATABASE_URL": s.database_url, "LICENSE_SVC_DATA_DIR": str(s.data_dir),
            "LICENSE_SVC_REGION": "sh", "LICENSE_SVC_KEYS_DIR": str(s.keys_dir)}


def test_cli_export_and_verify(ctx, log, tmp_path):
    env = _env(ctx, tmp_path)
    res = runner.invoke(app, ["audit", "export", "--out", str(tmp_path / "x")], env=env)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["audit", "verify", str(tmp_path / "x"), "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["indication"] == "TOTAL_PASSED"

    sql(ctx, "DELETE FROM audit_entries WHERE idx = 20")
    runner.invoke(app, ["audit", "export", "--out", str(tmp_path / "y.json")], env=env)
    res = runner.invoke(app, ["audit", "verify", str(tmp_path / "y.json"), "--json"], env=env)
    assert res.exit_code == 1
    assert json.loads(res.stdout)["audit"]["first_bad_entry"] == 20
    res = runner.invoke(app, ["audit", "verify", str(tmp_path / "y.json")], env=env)
    assert res.exit_code == 1 and "first bad entry: 20" in res.stdout

    res = runner.invoke(app, ["audit", "verify", str(tmp_path / "nothing-here")], env=env)
    assert res.exit_code == 3


def test_cli_verify_with_a_key_file_and_a_kept_checkpoint(ctx, log, tmp_path):
    env = _env(ctx, tmp_path)
    cert = ctx.keystore.credential("sh", "audit_log").cert
    (tmp_path / "audit.cer").write_bytes(cert.dump())
    with ctx.unit_of_work() as s:
        (tmp_path / "kept.note").write_bytes(audit.latest_checkpoint_note(s))
    runner.invoke(app, ["audit", "export", "--out", str(tmp_path / "x")], env=env)
    args = ["audit", "verify", str(tmp_path / "x"), "--key", str(tmp_path / "audit.cer"),
            "--checkpoint", str(tmp_path / "kept.note"), "--json"]
    res = runner.invoke(app, args, env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["audit"]["checkpoints_verified"] == 4
    res = runner.invoke(app, ["audit", "verify", str(tmp_path / "x"), "--no-keystore"], env=env)
    assert res.exit_code == 2  # intact, but only checked against the export's own key


def test_cli_checkpoint_signs_now(ctx, tmp_path):
    env = _env(ctx, tmp_path)
    append_many(ctx, 3)
    res = runner.invoke(app, ["audit", "checkpoint"], env=env)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("licence-audit/sh\n3\n")
    key = log_signer(ctx.keystore, "sh").verifier_key
    assert verify_checkpoint(res.stdout.encode(), [key], origin=ORIGIN).ok
