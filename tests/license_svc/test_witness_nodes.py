"""Witnessed audit logs with four real nodes on loopback (issue 13 part 4): every node's
checkpoint gathers cosignatures from the other regions; when ah's log is cut back to an older
checkpoint and grows again differently, the witnesses refuse to cosign and record incidents,
and `license-svc audit verify --witnesses 2` fails on ah's forked export."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import subprocess
import sys
import time

import pytest

from formats import libraries
from license_svc.federation.dev import node_environment
from tests.support.issuing import example
from tests.support.nodes import child_env, running_nodes, wait_until
from verification.tlog import parse_checkpoint

pytestmark = pytest.mark.slow
_NTH = itertools.count(1)
REGIONS = ("sh", "js", "zj", "ah")
WITNESS_LINE = re.compile(r"^\u2014 licence-audit-witness/([a-z]+) ", re.M)


def _issue(node):
    # a company of its own each time: the same licence again is a 409 (docs/issuance.md)
    body = example("business_licence", next(_NTH))
    client = f"{node.region}-issuer-amr"
    keys = json.loads((node.keys_dir / "clients.json").read_text("utf-8"))
    body["issuer_code"] = next(c["org_code"] for c in keys if c["client_id"] == client)
    r = node.post("/api/v1/licences", json=body, headers=node.auth(client))
    assert r.status_code == 201, r.text


def _checkpoint(node):
    r = node.get("/api/v1/audit/checkpoint")
    r.raise_for_status()
    return r.text


def _witnesses(note: str, own: str) -> set[str]:
    return set(WITNESS_LINE.findall(note)) - {own}


def _cli(node, nodes, *args):
    urls = {r: n.url for r, n in nodes.items()}
    env = node_environment(node.region, node.keys_dir, node.data_dir, urls, base=child_env())
    return subprocess.run([sys.executable, "-m", "license_svc", *args], env=env, cwd=node.data_dir,
                          capture_output=True, text=True, timeout=60)


def _verify(*args):
    """`license-svc audit verify` in this process (no database or key store needed with --key
    and --witness-cert): faster than a subprocess."""
    from typer.testing import CliRunner

    from license_svc.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["audit", "verify", *args])
    return subprocess.CompletedProcess(args, result.exit_code, result.output, "")


def _incidents(node, origin):
    text = node.get("/metrics").text
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'license_svc_witness_incidents\{kind="([a-z-]+)",origin="%s"\} ([0-9.]+)' % re.escape(origin), text)}


def test_witnesses_cosign_and_refuse_a_cut_back_log(tmp_path, monkeypatch):
    libraries.install()
    monkeypatch.setenv("LICENSE_SVC_WITNESS_INTERVAL_SECONDS", "2")
    with running_nodes(list(REGIONS), tmp_path, sync_interval_minutes=0.05) as nodes:
        for node in nodes.values():
            node.sync()
        for node in nodes.values():
            wait_until(lambda n=node: all(n.usable(r) for r in REGIONS), timeout=30,
                       what=f"{node.region} holds every list", interval=0.5)
        sizes = {r: 0 for r in REGIONS}

        def all_cosigned(after):
            for r, n in nodes.items():
                note = _checkpoint(n)
                sizes[r] = parse_checkpoint(note.encode()).size
                if len(_witnesses(note, r)) < 2 or sizes[r] <= after[r]:
                    return False
            return True
        wait_until(lambda: all_cosigned({r: 0 for r in REGIONS}), timeout=60,
                   what="every checkpoint cosigned by 2 other regions", interval=0.5)
        before = dict(sizes)
        for node in nodes.values():
            _issue(node)
        start = time.monotonic()
        wait_until(lambda: all_cosigned(before), timeout=60,
                   what="every new checkpoint cosigned by 2 other regions", interval=0.5)
        latency = time.monotonic() - start
        print(f"cosignature latency after a new entry: {latency:.1f} s")
        assert latency < 60

        ah = nodes["ah"]
        cosigned = _checkpoint(ah)
        (tmp_path / "cosigned.note").write_text(cosigned, encoding="utf-8")
        good = tmp_path / "good.json"
        assert _cli(ah, nodes, "audit", "export", "--out", str(good)).returncode == 0
        certs = [a for r in ("sh", "js", "zj") for a in
                 ("--witness-cert", str(nodes[r].keys_dir / r / f"{r}-witness-sm2.cert.pem"))]
        key = ["--key", str(ah.keys_dir / "ah" / "ah-audit-log-sm2.cert.pem")]
        ok = _verify(str(good), "--witnesses", "2", *key, *certs)
        assert ok.returncode == 0, ok.stdout + ok.stderr

        # Cut ah's log back to its first checkpoint (as someone with the database would).
        db = sqlite3.connect(ah.data_dir / "license-svc-ah.db", timeout=30)
        with db:
            old = db.execute("SELECT min(size) FROM audit_checkpoints").fetchone()[0]
            assert old < sizes["ah"]
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger' "
                                      "AND name LIKE 'audit_%'").fetchall():
                db.execute(f"DROP TRIGGER {name}")
            db.execute("DELETE FROM audit_entries WHERE idx >= ?", (old,))
            db.execute("DELETE FROM audit_nodes WHERE ((idx + 1) << level) > ?", (old,))
            db.execute("DELETE FROM audit_checkpoints WHERE size > ?", (old,))
            db.execute("DELETE FROM audit_cosignatures WHERE size > ?", (old,))
        db.close()
        assert parse_checkpoint(_checkpoint(ah).encode()).size == old

        origin = "licence-audit/ah"
        for r in ("sh", "js", "zj"):
            wait_until(lambda n=nodes[r]: _incidents(n, origin), timeout=30,
                       what=f"{r} records an incident about ah", interval=0.5)
            kinds = _incidents(nodes[r], origin)
            assert set(kinds) <= {"truncation", "rollback"}, kinds
        listed = _cli(nodes["sh"], nodes, "audit", "incidents")
        assert listed.returncode == 0 and "licence-audit/ah" in listed.stdout, listed.stderr

        # ah grows again with other entries: a fork of what the witnesses cosigned.
        _issue(ah)
        wait_until(lambda: parse_checkpoint(_checkpoint(ah).encode()).size > old, timeout=20,
                   what="ah signs its regrown log", interval=0.5)
        time.sleep(4)  # two witness rounds: still refused
        assert len(_witnesses(_checkpoint(ah), "ah")) == 0
        forked = tmp_path / "forked.json"
        assert _cli(ah, nodes, "audit", "export", "--out", str(forked)).returncode == 0
        bad = _verify(str(forked), "--witnesses", "2", *key, *certs)
        assert bad.returncode == 1, bad.stdout + bad.stderr
        assert "audit.witness_cosignatures" in bad.stdout or "见证" in bad.stdout
        # And with the cosigned checkpoint an auditor kept: the export is inconsistent with it.
        kept = _verify(str(forked), *key,
                    "--checkpoint", str(tmp_path / "cosigned.note"))
        assert kept.returncode == 1, kept.stdout + kept.stderr
