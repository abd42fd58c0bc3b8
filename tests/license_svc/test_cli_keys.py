"""`license-svc keys`, `pki show` and `dev-pki generate` through the real command line app."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from license_svc.cli import _register, app

KEYS = Path(__file__).resolve().parents[2] / "keys_dev"
_register()
runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture()
def sm2_files(tmp_path):
    key, pub, msg, sig = (tmp_path / n for n in ("k.pem", "p.pem", "m.txt", "s.der"))
    msg.write_bytes("电子证照 licence".encode())
    assert run("keys", "generate", "--alg", "sm2", "--out", key, "--pub", pub).exit_code == 0
    assert run("keys", "sign", "--key", key, "--in", msg, "--out", sig).exit_code == 0
    return key, pub, msg, sig


def test_sm2_generate_sign_verify(sm2_files):
    key, pub, msg, sig = sm2_files
    assert key.stat().st_mode & 0o077 == 0  # private key not readable by others
    assert b"BEGIN PRIVATE KEY" in key.read_bytes() and b"BEGIN PUBLIC KEY" in pub.read_bytes()
    res = run("keys", "verify", "--pub", pub, "--in", msg, "--sig", sig)
    assert res.exit_code == 0, res.output
    msg.write_bytes(msg.read_bytes() + b"!")
    res = run("keys", "verify", "--pub", pub, "--in", msg, "--sig", sig)
    assert res.exit_code == 1 and "INVALID" in res.output


def test_unreadable_inputs_exit_3(sm2_files, tmp_path):
    key, pub, msg, sig = sm2_files
    assert run("keys", "verify", "--pub", msg, "--in", msg, "--sig", sig).exit_code == 3
    assert run("keys", "verify", "--pub", tmp_path / "missing", "--in", msg, "--sig", sig).exit_code == 3
    assert run("keys", "verify", "--in", msg, "--sig", sig).exit_code == 3  # neither --pub nor --cert
    assert run("keys", "generate", "--alg", "dsa", "--out", tmp_path / "x").exit_code == 3
    assert run("keys", "sign", "--key", msg, "--in", msg, "--out", tmp_path / "y").exit_code == 3
    # A garbage signature is "invalid", not "unreadable": the inputs were read fine.
    (tmp_path / "junk").write_bytes(b"\x30\x02\x01")
    assert run("keys", "verify", "--pub", pub, "--in", msg, "--sig", tmp_path / "junk").exit_code == 1


def test_rsa_pss_and_scheme_mismatch(tmp_path):
    key, pub, msg, sig = (tmp_path / n for n in ("k.pem", "p.pem", "m", "s"))
    msg.write_bytes(b"hello")
    assert run("keys", "generate", "--alg", "rsa", "--out", key, "--pub", pub).exit_code == 0
    assert run("keys", "sign", "--key", key, "--in", msg, "--out", sig, "--scheme", "pss").exit_code == 0
    assert run("keys", "verify", "--pub", pub, "--in", msg, "--sig", sig, "--scheme", "pss").exit_code == 0
    assert run("keys", "verify", "--pub", pub, "--in", msg, "--sig", sig).exit_code == 1


def test_verify_with_dev_certificate(tmp_path):
    msg, sig = tmp_path / "m", tmp_path / "s"
    msg.write_bytes(b"trust list")
    key = KEYS / "sh" / "sh-trust-list-sm2.key.pem"
    cert = KEYS / "sh" / "sh-trust-list-sm2.cert.pem"
    assert run("keys", "sign", "--key", key, "--in", msg, "--out", sig).exit_code == 0
    assert run("keys", "verify", "--cert", cert, "--in", msg, "--sig", sig).exit_code == 0
    other = KEYS / "sh" / "sh-node-sm2.cert.pem"
    assert run("keys", "verify", "--cert", other, "--in", msg, "--sig", sig).exit_code == 1


def test_passphrase_env(tmp_path):
    key, msg, sig = tmp_path / "k.pem", tmp_path / "m", tmp_path / "s"
    msg.write_bytes(b"x")
    env = {"KEY_PASS": "s3cret-口令"}
    assert run("keys", "generate", "--alg", "sm2", "--out", key, "--passphrase-env", "KEY_PASS",
               env=env).exit_code == 0
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    assert run("keys", "sign", "--key", key, "--in", msg, "--out", sig).exit_code == 3
    assert run("keys", "sign", "--key", key, "--in", msg, "--out", sig, "--passphrase-env", "NOPE").exit_code == 3
    assert run("keys", "sign", "--key", key, "--in", msg, "--out", sig, "--passphrase-env", "KEY_PASS",
               env={"KEY_PASS": "wrong"}).exit_code == 3
    assert run("keys", "sign", "--key", key, "--in", msg, "--out", sig, "--passphrase-env", "KEY_PASS",
               env=env).exit_code == 0


@pytest.mark.interop
def test_cli_signature_verifies_in_openssl(sm2_files):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    key, pub, msg, sig = sm2_files
    out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin",
                          "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", msg,
                          "-sigfile", sig], capture_output=True, text=True)
    assert out.returncode == 0 and "Verified Successfully" in out.stdout, out.stderr


def test_pki_show(tmp_path):
    res = run("pki", "show", "--region", "js", env={"LICENSE_SVC_ENV": "development"})
    assert res.exit_code == 0, res.output
    assert "江苏省市场监督管理局" in res.output and "licence_signer" in res.output and "CRL" in res.output
    res = run("pki", "show", env={"LICENSE_SVC_ENV": "production"})
    assert res.exit_code == 3 and "keys_dev" in res.output


def test_dev_pki_generate(tmp_path):
    res = run("dev-pki", "generate", "--out", tmp_path / "kd")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "kd" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["development_only"] and (tmp_path / "kd" / "clients.json").is_file()
    assert "DEVELOPMENT ONLY" in res.output


def test_entry_point_exit_codes(tmp_path):
    """The installed `license-svc` script itself must return the command's exit code."""
    exe = shutil.which("license-svc") or str(Path(__file__).resolve().parents[2] / ".venv/bin/license-svc")
    if not Path(exe).exists():
        pytest.skip("license-svc entry point not installed")
    msg = tmp_path / "m"
    msg.write_bytes(b"x")
    bad = subprocess.run([exe, "keys", "verify", "--pub", msg, "--in", msg, "--sig", msg],
                         capture_output=True, text=True)
    assert bad.returncode == 3 and "error" in bad.stderr
    usage = subprocess.run([exe, "keys", "no-such-command"], capture_output=True, text=True)
    assert usage.returncode == 3
