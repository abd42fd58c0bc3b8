"""Issue 14 item 4: the lookup columns of an audit entry (holder_ref, licence_id, actor_org,
action, outcome, time) are derived from the signed leaf by the sequencer and checked against it
by `audit verify`, so rewriting them in the database cannot hide an entry from the holder's
access log or the auditor's search."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from formats.audit_leaf import INDEX_COLUMNS, index_columns
from license_svc import audit
from license_svc.audit.checkpoint import log_signer
from license_svc.audit.entries import format_time
from license_svc.audit.models import AuditEntryRow
from license_svc.cli import _register, app
from license_svc.grants import access_log
from tests.license_svc.test_audit_export import ORIGIN, export_and_verify, sql
from verification.audit import load_export

_register()
HOLDER = "310101199003071230"   # a valid GB 11643 number (check digit 0)
DEPARTMENT = "11320000014000000X"
LICENCE = "1.2.156.3005.2.11100000000013338W.SH2026000001.001.K"


def record_retrieval(ctx) -> int:
    with ctx.unit_of_work() as s:
        return audit.record(ctx, s, action="licence.retrieve", org_code=DEPARTMENT,
                            licence_id=LICENCE, holder_code=HOLDER, purpose="320100-000-0012")


def holder_sees(ctx) -> list[int]:
    with ctx.unit_of_work() as s:
        return [e.index for e in audit.entries_for_holder(s, audit.holder_reference(ctx, HOLDER))]


def auditor_finds(ctx, **query) -> list[int]:
    with ctx.unit_of_work() as s:
        return [item["index"] for item in access_log.search(s, **query)["entries"]]


def stored_columns(ctx) -> list[dict]:
    with ctx.unit_of_work() as s:
        rows = s.execute(select(AuditEntryRow.leaf, *[getattr(AuditEntryRow, c) for c in INDEX_COLUMNS])
                         .order_by(AuditEntryRow.idx)).all()
    return [(index_columns(bytes(leaf)), dict(zip(INDEX_COLUMNS, (format_time(v) if i == 0 else v
                                                                   for i, v in enumerate(values)))))
            for leaf, *values in rows]


def test_rewriting_a_queued_rows_columns_does_not_hide_the_entry(ctx):
    """The attack: during the sequencing window, rewrite the queue row's lookup columns."""
    record_retrieval(ctx)
    with ctx.unit_of_work() as s:   # the queue has no append-only trigger: it is moved, by design
        assert s.execute(text(
            "UPDATE audit_queue SET holder_ref = :ref, licence_id = 'x', actor_org = 'nobody', "
            "action = 'licence.status', outcome = 'error'"), {"ref": "0" * 64}).rowcount == 1
    assert audit.sequence(ctx) == 1
    assert holder_sees(ctx) == [0]
    assert auditor_finds(ctx, department=DEPARTMENT) == [0]
    assert auditor_finds(ctx, licence=LICENCE, action="licence.retrieve", outcome="success") == [0]
    [(derived, stored)] = stored_columns(ctx)
    assert stored == derived and stored["holder_ref"] == audit.holder_reference(ctx, HOLDER)


def test_a_queued_rows_leaf_hash_is_recomputed_from_the_leaf(ctx, tmp_path):
    """A wrong leaf hash in the queue would put into the tree a hash of nothing anyone holds."""
    record_retrieval(ctx)
    with ctx.unit_of_work() as s:
        s.execute(text("UPDATE audit_queue SET leaf_hash = :h"), {"h": b"\x01" * 32})
    audit.publish(ctx)
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_PASSED", report.to_text()


@pytest.mark.parametrize("column,value", [("holder_ref", "0" * 64), ("licence_id", "1.2.156.x"),
                                          ("actor_org", "nobody"), ("action", "licence.status"),
                                          ("outcome", "denied")])
def test_audit_verify_names_an_entry_whose_sequenced_column_was_rewritten(ctx, tmp_path, column, value):
    """After sequencing (triggers switched off, as an attacker with database rights would), the
    leaves and the tree are intact, so only the column check can see it."""
    record_retrieval(ctx)
    record_retrieval(ctx)
    audit.publish(ctx)
    assert export_and_verify(ctx, tmp_path, name="before").indication == "TOTAL_PASSED"
    sql(ctx, f"UPDATE audit_entries SET {column} = :v WHERE idx = 1", v=value)
    assert holder_sees(ctx) == ([0] if column == "holder_ref" else [1, 0])  # hidden from the holder
    report = export_and_verify(ctx, tmp_path, name="after")
    assert report.indication == "TOTAL_FAILED", report.to_text()
    check = report.check("audit.index_columns")
    assert not check.passed and column in check.detail and report.first_bad_entry == 1
    assert report.check("audit.tree_roots").passed  # the leaves themselves are untouched


def test_audit_verify_cli_exit_code_and_old_exports(ctx, tmp_path):
    record_retrieval(ctx)
    audit.publish(ctx)
    sql(ctx, "UPDATE audit_entries SET holder_ref = :v WHERE idx = 0", v="0" * 64)
    out = tmp_path / "export"
    with ctx.unit_of_work() as s:
        from license_svc.audit.export import export_log
        export_log(s, out, origin=ORIGIN, log_keys=[log_signer(ctx.keystore, "sh").verifier_key],
                   now=ctx.now())
    key = tmp_path / "log.pem"
    cert = ctx.keystore.credential("sh", "audit_log", "sm2").cert
    from asn1crypto import pem
    key.write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    result = CliRunner().invoke(app, ["audit", "verify", str(out), "--key", str(key)])
    assert result.exit_code == 1, result.output
    assert "audit.index_columns" in result.output or "检索列" in result.output
    # A /1 export (before the columns were exported) still reads; the columns are not checked.
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps(dict(manifest, format="licence-audit-export/1")))
    rows = [json.loads(line) for line in (out / "entries.jsonl").read_text().splitlines()]
    (out / "entries.jsonl").write_text("".join(
        json.dumps({"index": r["index"], "leaf": r["leaf"]}) + "\n" for r in rows))
    from verification.audit import verify_export
    report = verify_export(load_export(out), [log_signer(ctx.keystore, "sh").verifier_key])
    assert report.indication == "TOTAL_PASSED" and report.check("audit.index_columns") is None
    assert any("/1" in n for n in report.notes)


@pytest.mark.parametrize("leaf", [b'{"forged":true}', b"not json",
                                  json.dumps({"time": "2026-06-01", "actor": {"org_code": "x"},
                                              "action": "a", "outcome": "success"}).encode(),
                                  json.dumps({"time": "2026-06-01T08:00:00.000Z", "actor": {"org_code": "x" * 300},
                                              "action": "a", "outcome": "success"}).encode()])
def test_a_queued_leaf_that_is_no_entry_is_sequenced_and_named_by_audit_verify(ctx, tmp_path, leaf):
    """The sequencer must not stall on whatever the database holds; the tree keeps it, and the
    offline check names it."""
    record_retrieval(ctx)
    with ctx.unit_of_work() as s:
        s.execute(text("UPDATE audit_queue SET leaf = :leaf"), {"leaf": leaf})
    record_retrieval(ctx)
    assert audit.sequence(ctx) == 2
    audit.publish(ctx)
    report = export_and_verify(ctx, tmp_path)
    assert report.indication == "TOTAL_FAILED" and report.first_bad_entry == 0, report.to_text()
    assert holder_sees(ctx) == [1]
