"""`license-svc verify --trust-root CERT`: a PDF signed outside the federation (OpenSSL CA,
pyHanko signature) is INDETERMINATE on the trust lists alone and passes when the clerk trusts
its CA for that verification — PEM or DER — with the anchor named in the report."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from license_svc.cli import _register, app
from tests.support import realpdf as rp

_register()


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("foreign")
    pki = rp.make_pki(folder)
    (folder / "doc.pdf").write_bytes(rp.sign(pki))
    subprocess.run(["openssl", "x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
                   cwd=folder, check=True)
    return folder


@pytest.fixture
def run(settings):
    env = {"LICENSE_SVC_DATABASE_URL": settings.database_url, "LICENSE_SVC_REGION": "sh",
           "LICENSE_SVC_DATA_DIR": str(settings.data_dir), "LICENSE_SVC_PEERS": ""}

    def invoke(*args):
        result = CliRunner().invoke(app, ["verify", *args, "--json", "--at",
                                          datetime.now(timezone.utc).isoformat()], env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return invoke


def test_foreign_pdf_is_not_passed_on_the_trust_lists_alone(run, foreign):
    result = run(str(foreign / "doc.pdf"))
    assert result.exit_code == 2, result.output
    report = json.loads(result.output)
    assert report["indication"] == "INDETERMINATE"


@pytest.mark.parametrize("root", ["ca.pem", "ca.der"])
def test_trust_root_passes_and_names_the_anchor(run, foreign, root):
    result = run(str(foreign / "doc.pdf"), "--trust-root", str(foreign / root))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["indication"] == "TOTAL_PASSED"
    path = next(c for c in report["checks"] if c["name"] == "pdf.certificate_path")
    assert "Throwaway Root CA" in path["detail"], path
    assert any("--trust-root" in n and "Throwaway Root CA" in n for n in report["notes"])
    assert not any(c["name"].startswith(("trust.", "binding.")) for c in report["checks"])


def test_trust_root_of_another_ca_does_not_help(run, foreign, tmp_path):
    other = rp.make_pki(tmp_path)
    result = run(str(foreign / "doc.pdf"), "--trust-root", str(other.dir / "ca.pem"))
    assert result.exit_code == 2, result.output


def test_unreadable_trust_root_is_a_usage_error(run, foreign, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    result = run(str(foreign / "doc.pdf"), "--trust-root", str(bad))
    assert result.exit_code == 3, result.output
    result = run(str(foreign / "doc.pdf"), "--trust-root", str(tmp_path / "missing.pem"))
    assert result.exit_code == 3, result.output
