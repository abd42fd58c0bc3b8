"""`license-svc verify` offline: licences issued by the issuance functions into a test database,
verified by the command against the dev key store and that database's register — exit codes,
the JSON of DESIGN §10, plain Chinese text, the HTML page, and hostile files."""

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from license_svc.cli import _register, app
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from signing.qr.credentials import make_ep1
from tests.support.issuing import ORG_TYPES, example
from tests.license_svc.test_verify_api import _tamper_claim

_register()
TEMPLATES = [t for types in ORG_TYPES.values() for t in types]
DESIGN_KEYS = {"indication", "sub_indication", "checks", "licence", "signer", "seal"}


@pytest.fixture
def run(settings, clock):
    env = {"LICENSE_SVC_DATABASE_URL": settings.database_url, "LICENSE_SVC_REGION": "sh",
           "LICENSE_SVC_DATA_DIR": str(settings.data_dir), "LICENSE_SVC_PEERS": ""}
    runner = CliRunner()

    def invoke(*args, at=None, env_overrides=None):
        moment = (at or clock()).isoformat()
        result = runner.invoke(app, ["verify", *args, "--at", moment],
                               env={**env, **(env_overrides or {})})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return invoke


def _issue(ctx, issuers, folder, algorithm="sm2"):
    org = next(o for o, types in ORG_TYPES.items() if folder in types)
    ident = issuing.issue(ctx, issuers[org][0], example(folder, algorithm=algorithm)).identifiers[0]
    with ctx.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        return ident, v.pdf, v.el1


def _file(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_every_template_passes_offline(ctx, issuers, run, tmp_path, algorithm):
    for folder in TEMPLATES:
        ident, pdf, el1 = _issue(ctx, issuers, folder, algorithm)
        r = run(_file(tmp_path, f"{folder}.pdf", pdf), "--json")
        body = json.loads(r.output)
        assert r.exit_code == 0, (folder, algorithm, [c for c in body["checks"] if not c["passed"]])
        assert DESIGN_KEYS <= set(body) and body["indication"] == "TOTAL_PASSED"
        assert all(set(c) == {"name", "title_zh", "passed", "detail"} for c in body["checks"])
        assert body["licence"]["identifier"] == ident and body["licence"]["status"] == "active"
        r = run("--qr", el1)
        assert r.exit_code == 0, r.output
        assert r.output.startswith("结论：有效。") and "status.licence" in r.output
        assert "ETSI 结论：验证通过（TOTAL_PASSED）" in r.output


def test_revoked_and_suspended(ctx, issuers, amr, run, tmp_path):
    ident, pdf, el1 = _issue(ctx, issuers, "business_licence")
    path = _file(tmp_path, "l.pdf", pdf)
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, ident, amr, "核查中")
    # Genuine but suspended: not acceptable today (1), not "try later" (2) — the ETSI
    # indication stays INDETERMINATE in the JSON.
    r = run(path)
    assert r.exit_code == 1 and r.output.startswith("结论：已暂停。") and "核查中" in r.output.splitlines()[0]
    r = run("--qr", el1, "--json")
    assert r.exit_code == 1 and json.loads(r.output)["verdict"] == "suspended"
    assert json.loads(r.output)["indication"] == "INDETERMINATE"
    with ctx.unit_of_work() as s:
        lifecycle.revoke(ctx, s, ident, amr, "依法吊销")
    r = run("--qr", el1, "--json")
    assert r.exit_code == 1 and json.loads(r.output)["sub_indication"] == "REVOKED"
    r = run(path)
    assert r.exit_code == 1 and r.output.startswith("结论：已撤销。") and "依法吊销" in r.output.splitlines()[0]


def test_forged_foreign_and_stale_codes(ctx, issuers, run):
    ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    r = run("--qr", _tamper_claim(el1, "h", "另一家公司"), "--json")
    assert r.exit_code == 1 and json.loads(r.output)["sub_indication"] == "SIG_CRYPTO_FAILURE"
    node = ctx.keystore.credential("sh", "node")
    ep1, _cti = make_ep1(node.key, node.cert.dump(), region="sh", el1=el1, now=ctx.now())
    assert run("--qr", ep1).exit_code == 0
    r = run("--qr", ep1, "--json", at=ctx.now() + timedelta(seconds=61))
    assert r.exit_code == 1 and json.loads(r.output)["sub_indication"] == "EXPIRED"
    js_node = ctx.keystore.credential("js", "node")
    foreign, _ = make_ep1(js_node.key, js_node.cert.dump(), region="sh", el1=el1, now=ctx.now())
    r = run("--qr", foreign, "--json")
    assert r.exit_code == 1 and "ep1.region" in [
        c["name"] for c in json.loads(r.output)["checks"] if not c["passed"]]


def test_not_a_licence_vs_failed_vs_valid(ctx, issuers, run, tmp_path):
    _ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    valid, failed = run("--qr", el1, "--json"), run("--qr", el1[:-4] + "AAAA", "--json")
    other = run(_file(tmp_path, "url.txt", b"https://example.com/\n"), "--json")
    assert (valid.exit_code, failed.exit_code, other.exit_code) == (0, 1, 2)
    assert json.loads(other.output)["subject"] == "not-a-licence"
    assert json.loads(other.output)["sub_indication"] == "SIGNED_DATA_NOT_FOUND"
    assert json.loads(failed.output)["indication"] == "TOTAL_FAILED"


@pytest.mark.parametrize("data", [b"", b"\x00\xff" * 100, b"PK\x03\x04junk", b"\x30\x03\x02\x01\x05",
                                  b"\x89PNG\r\n\x1a\n\0\0\0", os.urandom(2048)])
def test_unreadable_files_exit_3(run, tmp_path, data):
    r = run(_file(tmp_path, "x.bin", data))
    assert r.exit_code == 3 and "错误" in r.output


def test_usage_errors_exit_3(run, tmp_path):
    assert run().exit_code == 3                                      # neither
    assert run(_file(tmp_path, "a", b"EL1:"), "--qr", "EL1:").exit_code == 3  # both
    assert run(str(tmp_path / "missing.pdf")).exit_code == 3
    r = CliRunner().invoke(app, ["verify", "--qr", "x", "--at", "yesterday"])
    assert r.exit_code == 3


def test_garbage_pdf_fails_never_passes(run, tmp_path):
    r = run(_file(tmp_path, "x.pdf", b"%PDF-1.7\n" + os.urandom(500)), "--json")
    assert r.exit_code == 1 and json.loads(r.output)["sub_indication"] == "FORMAT_FAILURE"


def test_html_report_written(ctx, issuers, run, tmp_path):
    _ident, pdf, _el1 = _issue(ctx, issuers, "marriage_certificate", "rsa")
    out = tmp_path / "report.html"
    r = run(_file(tmp_path, "m.pdf", pdf), "--html", str(out))
    assert r.exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "验证通过" in page and "pdf.seal_binding" in page


def test_without_a_local_database_status_is_not_checked(ctx, issuers, run, tmp_path):
    _ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    r = run("--qr", el1, "--json",
            env_overrides={"LICENSE_SVC_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"})
    body = json.loads(r.output)
    assert r.exit_code == 0 and "status.licence" not in [c["name"] for c in body["checks"]]
    assert any("not checked" in n for n in body["notes"])
    assert not (tmp_path / "none.db").exists()  # verify never creates a database


def test_entry_point_exit_codes(tmp_path, settings):
    """The installed command path (`python -m license_svc`), not only the Typer app."""
    env = dict(os.environ, LICENSE_SVC_DATABASE_URL=settings.database_url,
               LICENSE_SVC_DATA_DIR=str(tmp_path))
    bad = subprocess.run([sys.executable, "-m", "license_svc", "verify", "--qr", "EL1:AAAA"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "验证失败" in bad.stdout
    junk = tmp_path / "j"
    junk.write_bytes(b"\x00\x01\x02")
    r = subprocess.run([sys.executable, "-m", "license_svc", "verify", str(junk)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 3 and r.stdout == "" and "error:" in r.stderr


def test_status_from_an_unreachable_peer_is_try_later(ctx, issuers, run, tmp_path):
    """Without the issuer's register, the CLI asks the issuing region over a peer client; no
    answer is not a crash but INDETERMINATE / TRY_LATER."""
    _ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    r = run("--qr", el1, "--json", env_overrides={
        "LICENSE_SVC_DATABASE_URL": f"sqlite:///{tmp_path}/none.db", "LICENSE_SVC_PEERS": f"sh={closed}"})
    report = json.loads(r.output)
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "TRY_LATER"), r.output


def test_offline_with_list_files_and_no_database(ctx, tmp_path, clock):
    """A js licence verified on a machine with no database, from the federation list and trust
    list files; without js's list the answer is INDETERMINATE; a tampered list is not used."""
    import json as _json

    from formats.identifier import make_identifier
    from license_svc.federation.publish import signed_in_memory
    from signing.qr.credentials import make_el1

    ks = ctx.keystore
    org = ks.organisations("js")[0]
    cred = ks.credential("js", "licence_signer", "sm2", org_code=org.code)
    claims = {"id": str(make_identifier("11100000MB0000001T001", org.code)),
              "t": "11100000MB0000001T001", "n": "JS2026000000000001", "h": "江苏示例有限公司",
              "hid": "91320000MA00000019", "vf": "2026-01-01", "r": "js", "v": 1}
    el1 = make_el1(cred.key, cred.cert.dump(), issuer_code=org.code, claims=claims,
                   iat=clock(), exp=clock() + timedelta(days=30))
    lotl, lists = signed_in_memory(ks, clock())
    files = {}
    for name, env in [("lotl", lotl)] + [(e["payload"]["region"], e) for e in lists]:
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(_json.dumps(env), encoding="utf-8")
    empty = tmp_path / "nothing-here"
    env = {"LICENSE_SVC_DATA_DIR": str(empty), "LICENSE_SVC_DATABASE_URL": "",
           "LICENSE_SVC_PEERS": "", "LICENSE_SVC_REGION": "sh"}
    runner = CliRunner()

    def verify(*lists_given):
        args = ["verify", "--qr", el1, "--json", "--at", clock().isoformat(),
                "--federation", str(files["lotl"])]
        for f in lists_given:
            args += ["--trust-list", str(f)]
        return runner.invoke(app, args, env=env)

    r = verify(files["sh"], files["js"])
    assert r.exit_code == 0, r.output
    body = _json.loads(r.output)
    assert body["signer"]["trust_lists"][0]["region"] == "js"
    assert not empty.exists()  # nothing was created
    assert verify(files["sh"]).exit_code == 2
    tampered = _json.loads(files["js"].read_text())
    tampered["payload"]["entries"][0]["org_name"] = "冒充"
    files["js"].write_text(_json.dumps(tampered), encoding="utf-8")
    r = verify(files["sh"], files["js"])
    assert r.exit_code == 2 and "list not used" in r.output
