"""长三角 mutual recognition with four real nodes on loopback, each on its own exported key store
(only its region's keys and the pinned federation root certificate) and its own database:
licences issued at js verify at sh, zj and ah through js's signed trust list alone; without that
list the answer is INDETERMINATE; a withdrawal at js reaches every region after one sync;
another region's client is refused; `license-svc verify` works offline from list files."""

import hashlib
import itertools
import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from formats import libraries
from formats.identifier import make_identifier
from formats.qr_claims import el1_claims
from signing.keystore import KeyStore
from signing.pdf import sign_licence_pdf
from signing.qr.credentials import make_el1, make_ep1
from tests.support.issuing import example
from tests.support.nodes import REPO_ROOT, child_env, running_nodes, wait_until

pytestmark = pytest.mark.slow
_NTH = itertools.count(1)
VERIFY = "/api/v1/verify"
RECHECK = 6  # seconds: verify_service.LIST_RECHECK (5 s) and a margin


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    libraries.install()
    with running_nodes(["sh", "js", "zj", "ah"], tmp_path_factory.mktemp("four")) as running:
        for node in running.values():
            node.sync()
        for node in running.values():
            wait_until(lambda n=node: all(n.usable(r) for r in ("sh", "js", "zj", "ah")),
                       timeout=30, what=f"{node.region} holds every region's list",
                       interval=0.5)
        yield running


def _issue(node, folder="business_licence", algorithm="sm2"):
    # a holder of its own each time: the same licence again is a 409 (docs/issuance.md)
    body = example(folder, next(_NTH))
    client = f"{node.region}-issuer-amr"
    keys = json.loads((node.keys_dir / "clients.json").read_text("utf-8"))
    body["issuer_code"] = next(c["org_code"] for c in keys if c["client_id"] == client)
    body["algorithm"] = algorithm
    r = node.post("/api/v1/licences", json=body, headers=node.auth(client))
    assert r.status_code == 201, r.text
    ident = r.json()["identifier"]
    view = node.get(f"/api/v1/licences/{ident}", headers=node.auth(client)).json()
    pdf = node.get(f"/api/v1/licences/{ident}/pdf", headers=node.auth(client)).content
    return ident, pdf, view["el1"]


def _verify(node, *, pdf=None, qr=None):
    headers = node.auth(f"{node.region}-relying")
    if pdf is not None:
        r = node.post(VERIFY, files={"file": ("l.pdf", pdf, "application/pdf")}, headers=headers)
    else:
        r = node.post(VERIFY, json={"qr": qr}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _failed(body):
    return {c["name"]: c["detail"] for c in body["checks"] if not c["passed"]}


def _ep1(node, el1):
    ks = KeyStore.load(node.keys_dir)
    cred = ks.credential(node.region, "node", "sm2")
    return make_ep1(cred.key, cred.cert.dump(), region=node.region, el1=el1,
                    now=datetime.now(timezone.utc))[0]


def test_stores_hold_one_region(nodes):
    js_ca = (REPO_ROOT / "keys_dev" / "js").glob("*.cert.pem")
    js_ders = {p.read_bytes() for p in js_ca}
    for region in ("sh", "zj", "ah"):
        held = {p.read_bytes() for p in nodes[region].keys_dir.rglob("*.pem")}
        assert not held & js_ders, f"{region}'s store holds js material"


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_a_js_licence_verifies_everywhere(nodes, algorithm):
    js = nodes["js"]
    ident, pdf, el1 = _issue(js, algorithm=algorithm)
    ep1 = _ep1(js, el1)
    for region in ("sh", "zj", "ah"):
        for kind, body in (("pdf", _verify(nodes[region], pdf=pdf)),
                           ("el1", _verify(nodes[region], qr=el1))):
            assert body["indication"] == "TOTAL_PASSED", (region, kind, _failed(body))
            assert body["signer"]["trust_lists"][0]["region"] == "js"
            assert body["licence"].get("status") == "active"
        body = _verify(nodes[region], qr=_ep1(js, el1) if region != "sh" else ep1)
        assert body["indication"] == "TOTAL_PASSED", (region, "ep1", _failed(body))


def test_without_js_list_the_answer_is_indeterminate(nodes):
    js, zj = nodes["js"], nodes["zj"]
    _ident, pdf, el1 = _issue(js)
    db = zj.data_dir / "license-svc-zj.db"
    with sqlite3.connect(db) as conn:
        deleted = conn.execute("DELETE FROM federation_synced WHERE kind = 'trust-list' "
                               "AND region = 'js'").rowcount
    assert deleted == 1
    try:
        time.sleep(RECHECK)
        for body in (_verify(zj, qr=el1), _verify(zj, pdf=pdf)):
            assert body["indication"] == "INDETERMINATE", _failed(body)
    finally:
        zj.sync()  # restore for the other tests
        wait_until(lambda: zj.usable("js"), timeout=30, what="zj holds js's list again")
        time.sleep(RECHECK)


def test_another_regions_client_is_refused(nodes):
    sh, js = nodes["sh"], nodes["js"]
    ident, _pdf, _el1 = _issue(sh)
    for path in (f"/api/v1/licences/{ident}", f"/api/v1/licences/{ident}/pdf", "/api/v1/seals",
                 "/api/v1/audit/search", "/api/v1/federation/status"):
        r = sh.get(path, headers=js.auth("js-admin"))
        assert r.status_code in (401, 403), (path, r.status_code)
    r = sh.post(VERIFY, json={"qr": "EL1:X"}, headers=js.auth("js-relying"))
    assert r.status_code == 401  # js's clients are not even registered on a one-region node


def test_offline_cli_from_list_files_without_a_database(nodes, tmp_path):
    js = nodes["js"]
    _ident, _pdf, el1 = _issue(js)
    (tmp_path / "lotl.json").write_bytes(js.get("/api/v1/federation").content)
    args = ["--federation", str(tmp_path / "lotl.json")]
    for region, node in nodes.items():
        (tmp_path / f"{region}.json").write_bytes(node.get("/api/v1/trust-list").content)
        args += ["--trust-list", str(tmp_path / f"{region}.json")]
    env = child_env({"LICENSE_SVC_KEYS_DIR": str(nodes["ah"].keys_dir),  # any exported store
                     "LICENSE_SVC_DATA_DIR": str(tmp_path / "none"), "LICENSE_SVC_REGION": "ah",
                     "LICENSE_SVC_PEERS": "", "LICENSE_SVC_DATABASE_URL": ""})
    out = subprocess.run([sys.executable, "-m", "license_svc", "verify", "--qr", el1, "--json",
                          *args], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["signer"]["trust_lists"][0]["region"] == "js"
    assert not (tmp_path / "none").exists()
    out = subprocess.run([sys.executable, "-m", "license_svc", "verify", "--qr", el1,
                          "--node", nodes["sh"].url], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_withdrawal_at_js_reaches_every_region(nodes):
    """Last: it withdraws js's SM2 market-regulator signer for key compromise."""
    js = nodes["js"]
    ident, pdf, el1 = _issue(js)                     # genuine, timestamped before the withdrawal
    time.sleep(2)
    since = datetime.now(timezone.utc).replace(microsecond=0)
    time.sleep(1)
    ks = KeyStore.load(js.keys_dir)
    amr = next(o for o in ks.organisations("js") if "business_licence" in o.licence_types)
    leaked = ks.credential("js", "licence_signer", "sm2", org_code=amr.code)
    digest = hashlib.sha256(leaked.cert.dump()).hexdigest()
    env = child_env({"LICENSE_SVC_KEYS_DIR": str(js.keys_dir), "LICENSE_SVC_DATA_DIR": str(js.data_dir),
                     "LICENSE_SVC_REGION": "js"})
    out = subprocess.run([sys.executable, "-m", "license_svc", "trust-list", "withdraw", digest,
                          "--since", since.isoformat(), "--reason", "私钥泄露 key compromise"],
                         env=env, capture_output=True, text=True, timeout=60, cwd=js.data_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    # js refuses to issue with the withdrawn key
    body = json.loads((REPO_ROOT / "license_svc/licence_types/business_licence/example.json").read_text("utf-8"))
    body["issuer_code"] = amr.code
    r = js.post("/api/v1/licences", json=body, headers=js.auth("js-issuer-amr"))
    assert r.status_code == 503 and "signing-key-withdrawn" in r.json()["type"]
    # the leaked key's work after `since`, and a forgery backdated before it
    now = datetime.now(timezone.utc)
    claims = el1_claims(el1)
    after = make_el1(leaked.key, leaked.cert.dump(), issuer_code=amr.code, claims=claims,
                     iat=now, exp=now + timedelta(days=30))
    backdated = make_el1(leaked.key, leaked.cert.dump(), issuer_code=amr.code,
                         claims=dict(claims, h="冒名顶替有限公司"), iat=since - timedelta(days=1),
                         exp=now + timedelta(days=30))
    new_ident = str(make_identifier(claims["t"], amr.code))
    backdated_new = make_el1(leaked.key, leaked.cert.dump(), issuer_code=amr.code,
                             claims=dict(claims, id=new_ident), iat=since - timedelta(days=1),
                             exp=now + timedelta(days=30))
    forged_pdf = sign_licence_pdf(pdf[:pdf.index(b"%%EOF") + 6], leaked,
                                  licence={"id": ident, "data_hash": _data_hash(pdf), "version": 1})
    for region in ("sh", "zj", "ah"):
        nodes[region].sync()
    time.sleep(RECHECK)
    for region in ("sh", "zj", "ah"):
        node = nodes[region]
        for what, text in (("after", after), ("backdated", backdated), ("new", backdated_new)):
            got = _verify(node, qr=text)
            assert got["indication"] != "TOTAL_PASSED", (region, what)
        got = _verify(node, qr=after)
        assert (got["indication"], got["sub_indication"]) == ("TOTAL_FAILED", "REVOKED"), region
        got = _verify(node, pdf=forged_pdf)      # (no seal either: that fails too)
        assert got["indication"] == "TOTAL_FAILED" and "trust.withdrawal" in _failed(got), region
        got = _verify(node, pdf=pdf)              # its region-TSA timestamp predates `since`
        assert got["indication"] == "TOTAL_PASSED", (region, _failed(got))
        got = _verify(node, qr=el1)               # the js register vouches for it
        assert got["indication"] == "TOTAL_PASSED", (region, _failed(got))


def _data_hash(pdf: bytes) -> str:
    import re

    return re.search(rb"/Hash\s*\(([0-9a-f]{64})\)", pdf).group(1).decode()
