"""`license-svc issue` / `qr` as a user runs them: files written, identifier printed, exit codes."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.issuing import example


def _run(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "license_svc", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli_env(tmp_path, settings):
    env = dict(os.environ, LICENSE_SVC_DATA_DIR=str(tmp_path / "var"),
               LICENSE_SVC_DATABASE_URL=settings.database_url, LICENSE_SVC_REGION="sh")
    return env


def test_issue_then_qr(tmp_path, cli_env):
    data = tmp_path / "req.json"
    data.write_text(json.dumps(example("food_business_licence"), ensure_ascii=False), encoding="utf-8")
    r = _run(["issue", "--type", "food_business_licence", "--data", str(data), "--alg", "rsa",
              "--out", str(tmp_path / "out")], cli_env, tmp_path)
    assert r.returncode == 0, r.stderr
    ident = r.stdout.strip()
    pdf = (tmp_path / "out" / f"{ident}.pdf").read_bytes()
    view = json.loads((tmp_path / "out" / f"{ident}.json").read_text(encoding="utf-8"))
    assert pdf.startswith(b"%PDF-") and view["identifier"] == ident and view["algorithm"] == "rsa"
    # what the officer reads: which licence, whose, how long, and the files (not only an OID)
    payload = view["signed_record"]["payload"]
    assert payload["type_name"] in r.stderr and payload["number"] in r.stderr
    assert payload["holders"][0]["name"] in r.stderr and f"{ident}.pdf" in r.stderr
    q = _run(["qr", ident, "--text"], cli_env, tmp_path)
    assert q.returncode == 0 and q.stdout.strip() == view["el1"]
    p = _run(["qr", ident, "--present", "--out", str(tmp_path / "p.png")], cli_env, tmp_path)
    assert p.returncode == 0 and (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
    assert p.stdout == ""


def test_exit_codes(tmp_path, cli_env):
    bad = _run(["issue", "--type", "business_licence", "--data", str(tmp_path / "missing.json")],
               cli_env, tmp_path)
    assert bad.returncode == 3 and "无法读取" in bad.stderr
    data = tmp_path / "req.json"
    body = example("business_licence")
    body["fields"].pop("address")
    data.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    refused = _run(["issue", "--type", "business_licence", "--data", str(data), "--out", str(tmp_path)],
                   cli_env, tmp_path)
    assert refused.returncode == 1 and "address" in refused.stderr
    assert not list(tmp_path.glob("*.pdf"))
