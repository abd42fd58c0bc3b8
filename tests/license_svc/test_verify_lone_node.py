"""`license-svc verify --node URL` against a lone development node (what `make run` starts): the
node's own region list comes from the node asked, even though the federation list names other
addresses for every region — a licence it issued verifies; before, every list was fetched from
the federation list's (unreachable) addresses and the licence was INDETERMINATE."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.support.nodes import child_env
from tests.web.live_server import live_server
from license_svc.templates import TEMPLATES_DIR


def test_verify_against_a_lone_node_passes_its_own_licence(tmp_path):
    with live_server(tmp_path / "data") as srv:
        body = (TEMPLATES_DIR / "business_licence" / "example.json").read_bytes()
        issued = httpx.post(f"{srv.url}/api/v1/licences", content=body, timeout=60,
                            headers={**srv.auth("sh-issuer-amr"), "Content-Type": "application/json"})
        assert issued.status_code == 201, issued.text
        ident = issued.json()["identifier"]
        pdf = httpx.get(f"{srv.url}/api/v1/licences/{ident}/pdf", headers=srv.auth("sh-issuer-amr"))
        (tmp_path / "l.pdf").write_bytes(pdf.content)
        done = subprocess.run([sys.executable, "-m", "license_svc", "verify", str(tmp_path / "l.pdf"),
                               "--node", srv.url, "--json"], env=child_env(), cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert '"TOTAL_PASSED"' in done.stdout
