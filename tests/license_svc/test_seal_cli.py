"""`license-svc seal make|show|sign|verify` through the real command line app, keys from the
committed development key store and from files."""
import json
from pathlib import Path

import pytest
from asn1crypto import pem
from typer.testing import CliRunner

from license_svc.cli import _register, app
from formats import algorithms as alg
from tests.support import seal as S

KEYS = Path(__file__).resolve().parents[2] / "keys_dev"
JS_AMR = "11320000MB0000010E"
_register()
runner = CliRunner()
ENV = {"LICENSE_SVC_KEYS_DIR": str(KEYS), "LICENSE_SVC_ENV": "development"}


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env=ENV)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("seal")
    seal, pic, doc, sig = d / "c.esl", d / "c.png", d / "合同.txt", d / "c.dat"
    res = run("seal", "make", "--org-code", JS_AMR, "--seal-name", "合同专用章", "--type",
              "special", "--valid-from", "2026-11-01T00:00:00Z", "--out", seal,
              "--picture-out", pic)
    assert res.exit_code == 0, res.output
    doc.write_text("合同内容", encoding="utf-8")
    res = run("seal", "sign", "--seal", seal, "--in", doc, "--out", sig, "--org-code", JS_AMR,
              "--at", "2026-11-22T08:00:00Z")
    assert res.exit_code == 0, res.output
    return seal, pic, doc, sig


def test_show(made):
    seal, pic, _doc, sig = made
    assert pic.read_bytes().startswith(b"\x89PNG")
    res = run("seal", "show", sig, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["seal"]["name"] == "合同专用章" and out["seal"]["picture_mm"] == [45, 30]
    assert len(out["seal"]["signer_certificates"]) == 2  # the org's SM2 and RSA signers
    assert out["signature"]["property_info"] == "%E5%90%88%E5%90%8C.txt"
    assert "合同专用章" in run("seal", "show", seal).output


def test_verify_exit_codes(made, tmp_path):
    seal, _pic, doc, sig = made
    res = run("seal", "verify", sig, "--data", doc, "--at", "2026-12-01T00:00:00Z", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["indication"] == "TOTAL_PASSED"
    assert run("seal", "verify", seal, "--at", "2026-12-01T00:00:00Z").exit_code == 0
    # Expired as of 2030.
    res = run("seal", "verify", sig, "--data", doc, "--at", "2030-01-01T00:00:00Z", "--json")
    assert res.exit_code == 1 and json.loads(res.output)["sub_indication"] == "EXPIRED"
    # A changed document.
    other = tmp_path / "other.txt"
    other.write_text("改过的合同", encoding="utf-8")
    res = run("seal", "verify", sig, "--data", other, "--at", "2026-12-01T00:00:00Z", "--json")
    assert res.exit_code == 1 and json.loads(res.output)["sub_indication"] == "HASH_FAILURE"
    # Trusting another region only, or nothing: indeterminate.
    res = run("seal", "verify", sig, "--data", doc, "--at", "2026-12-01T00:00:00Z", "--region", "sh")
    assert res.exit_code == 2
    assert run("seal", "verify", seal, "--no-keystore", "--at", "2026-12-01").exit_code == 2
    # Without the document: indeterminate (SIGNED_DATA_NOT_FOUND).
    assert run("seal", "verify", sig, "--at", "2026-12-01T00:00:00Z").exit_code == 2
    # Unreadable input.
    junk = tmp_path / "junk.dat"
    junk.write_bytes(b"\x30\x05abc")
    assert run("seal", "verify", junk).exit_code == 3
    assert run("seal", "verify", tmp_path / "missing.dat").exit_code == 3


def test_make_and_sign_from_files(tmp_path):
    maker, signer = S.maker(), S.signer()
    files = {}
    for name, data in (("mk.pem", alg.dump_private_key(maker.key)),
                       ("mc.pem", pem.armor("CERTIFICATE", maker.cert.dump())),
                       ("sk.pem", alg.dump_private_key(signer.key)),
                       ("sc.pem", pem.armor("CERTIFICATE", signer.cert.dump()))):
        files[name] = tmp_path / name
        files[name].write_bytes(data)
    seal, sig, doc = tmp_path / "p.esl", tmp_path / "p.dat", tmp_path / "doc.bin"
    doc.write_bytes(b"doc")
    res = run("seal", "make", "--type", "personal", "--seal-name", "王小明", "--org-name", "x",
              "--maker-key", files["mk.pem"], "--maker-cert", files["mc.pem"],
              "--signer-cert", files["sc.pem"], "--digests", "--out", seal)
    assert res.exit_code == 0, res.output
    res = run("seal", "sign", "--seal", seal, "--in", doc, "--out", sig, "--key",
              files["sk.pem"], "--cert", files["sc.pem"])
    assert res.exit_code == 0, res.output
    assert run("seal", "verify", sig, "--data", doc, "--region", "sh").exit_code == 0
    # Signing with a certificate the seal does not list is refused (usage error, exit 3).
    res = run("seal", "sign", "--seal", seal, "--in", doc, "--out", sig, "--org-code", JS_AMR)
    assert res.exit_code == 3 and "证书列表" in res.output
    assert run("seal", "make", "--seal-name", "x", "--type", "bogus", "--out", seal).exit_code == 3
