"""`license-svc dev-pki export`: a key store holding one region only (plus the federation root
certificate, never its key) and the federation list signed for it; and a context on such a
store (can it sign, seed, publish).  The command runs as a real process; the checks read every
file it wrote."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import pem

from formats.errors import SigningError
from license_svc.bootstrap import bootstrap
from license_svc.auth.clients import list_clients
from license_svc.config import DEV_KEYS_DIR
from license_svc.federation.publish import can_sign_federation, current_trust_list, published
from license_svc.federation.sync import load_federation_file, pinned_roots, sync_overview
from signing.devpki import ExportError, export_region
from signing.keystore import KeyStore
from tests.support.nodes import child_env
from verification.trustlist import verify_federation_list, verify_trust_list

FULL = json.loads((DEV_KEYS_DIR / "manifest.json").read_text(encoding="utf-8"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "license_svc", *args], env=child_env(),
                          capture_output=True, text=True, timeout=60)


def _der_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if not pem.detect(data):
        return [data]
    return [der for _type, _headers, der in pem.unarmor(data, multiple=True)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "js-keys"
    done = _cli("dev-pki", "export", "--region", "js", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "federation root: certificate only" in done.stdout
    return out


def test_export_holds_no_other_region_material(exported):
    foreign_files = {}  # DER / PEM body of every other region's cert, key and CRL, and the root key
    for item in FULL["items"]:
        fields = ("cert", "key", "crl") if item["region"] not in ("js", "federation") else \
            ("key", "crl") if item["region"] == "federation" else ()
        for f in fields:
            if item.get(f):
                for der in _der_of(DEV_KEYS_DIR / item[f]):
                    foreign_files[hashlib.sha256(der).hexdigest()] = f"{item['id']} {f}"
    own = {hashlib.sha256(der).hexdigest()
           for item in FULL["items"] if item["region"] == "js"
           for f in ("cert", "key", "crl") if item.get(f) for der in _der_of(DEV_KEYS_DIR / item[f])}
    root_cert = next(i for i in FULL["items"] if i["role"] == "federation_root")
    own |= {hashlib.sha256(d).hexdigest() for d in _der_of(DEV_KEYS_DIR / root_cert["cert"])}

    files = sorted(p for p in exported.rglob("*") if p.is_file())
    assert {p.relative_to(exported).parts[0] for p in files} == {
        "js", "federation", "manifest.json", "clients.json", "federation.json", "scenarios.json",
        "README.md"}
    for path in files:
        if path.suffix == ".pem":
            for der in _der_of(path):
                digest = hashlib.sha256(der).hexdigest()
                assert digest not in foreign_files, f"{path} is {foreign_files[digest]}"
                assert digest in own, f"{path} is not js material"
        if path.parent.name == "federation":
            assert path.name.endswith(".cert.pem"), f"{path}: only the root certificate"

    manifest = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["development_only"] is True and manifest["schema"] == FULL["schema"]
    assert set(manifest["regions"]) == {"js"}
    assert {o["region"] for o in manifest["organisations"]} == {"js"}
    assert len(manifest["organisations"]) == len([o for o in FULL["organisations"] if o["region"] == "js"])
    regions = {i["region"] for i in manifest["items"]}
    assert regions == {"js", "federation"}
    fed = [i for i in manifest["items"] if i["region"] == "federation"]
    assert len(fed) == 1 and fed[0]["role"] == "federation_root" and fed[0]["key"] is None
    assert fed[0]["crl"] is None
    for item in manifest["items"]:
        if item["region"] == "js":
            assert all(not (item.get(f) or "").startswith(("sh/", "zj/", "ah/", "federation/"))
                       for f in ("cert", "key", "crl"))
    # Every certificate the manifest names is in the folder, and the subject province is Jiangsu.
    ks = KeyStore.load(exported)
    for item in ks.items(region="js"):
        assert "江苏" in ks.certificate(item["id"]).subject.human_friendly

    clients = json.loads((exported / "clients.json").read_text(encoding="utf-8"))
    assert clients and {c["region"] for c in clients} == {"js"}
    full_clients = json.loads((DEV_KEYS_DIR / "clients.json").read_text(encoding="utf-8"))
    assert clients == [c for c in full_clients if c["region"] == "js"]


def test_exported_store_loads_but_cannot_sign_the_federation_list(exported):
    ks = KeyStore.load(exported)
    assert ks.development_only and set(ks.regions) == {"js"}
    assert not can_sign_federation(ks)
    with pytest.raises(SigningError):
        ks.federation_root()
    assert ks.credential("js", "licence_signer", "sm2").key is not None
    with pytest.raises(SigningError):
        ks.credential("sh", "licence_signer", "sm2")
    with pytest.raises(SigningError):  # production refuses it like keys_dev
        KeyStore.load(exported, production=True)


def test_federation_file_is_signed_by_the_pinned_root(exported):
    envelope = json.loads((exported / "federation.json").read_bytes())
    roots = pinned_roots(KeyStore.load(exported))
    payload = envelope["payload"]
    issued = verify_federation_list(envelope, roots, _at(payload["issued_at"]))
    assert issued.usable and issued.report.indication == "TOTAL_PASSED"
    assert [r["region"] for r in payload["regions"]] == ["ah", "js", "sh", "zj"]
    assert {r["region"]: r["node_url"] for r in payload["regions"]} == {
        "sh": "http://127.0.0.1:8001", "js": "http://127.0.0.1:8002",
        "zj": "http://127.0.0.1:8003", "ah": "http://127.0.0.1:8004"}
    assert _at(payload["next_update"]) - _at(payload["issued_at"]) == timedelta(days=30)
    assert payload["sequence"] == int(_at(payload["issued_at"]).timestamp())
    full = KeyStore.load(DEV_KEYS_DIR)
    for r in payload["regions"]:  # the signers are the regions' real trust-list certificates
        assert r["trust_list_signers"] == [base64.b64encode(
            full.certificate(f"{r['region']}-trust-list-sm2").dump()).decode()]


def test_export_peers_and_refusals(tmp_path):
    out = tmp_path / "ah"
    done = _cli("dev-pki", "export", "--region", "ah", "--out", str(out),
                "--peers", "ah=http://127.0.0.1:9004,sh=http://127.0.0.1:9001")
    assert done.returncode == 0, done.stderr
    urls = {r["region"]: r["node_url"]
            for r in json.loads((out / "federation.json").read_bytes())["payload"]["regions"]}
    assert urls == {"sh": "http://127.0.0.1:9001", "js": "http://127.0.0.1:8002",
                    "zj": "http://127.0.0.1:8003", "ah": "http://127.0.0.1:9004"}
    bad = _cli("dev-pki", "export", "--region", "xx", "--out", str(tmp_path / "xx"))
    assert bad.returncode == 3 and "unknown region" in bad.stderr
    with pytest.raises(ExportError):
        export_region(DEV_KEYS_DIR, "sh", DEV_KEYS_DIR)
    with pytest.raises(ExportError):  # an exported store is not a source of other regions
        export_region(out, "sh", tmp_path / "again")


def test_context_on_exported_store_seeds_and_publishes_its_region_only(exported, settings_factory):
    settings = settings_factory("js", keys_dir=exported)
    ctx = bootstrap(settings)  # migrate, federation file, clients, demo licences
    try:
        with ctx.unit_of_work() as s:
            clients = list_clients(s)
        assert clients and {c.region for c, _disabled in clients} == {"js"}
        pub = published(ctx, current_trust_list)
        signer = ctx.keystore.certificate("js-trust-list-sm2").dump()
        assert verify_trust_list(pub.envelope, [signer], ctx.now(), region="js").usable
        overview = sync_overview(ctx)
        assert overview["federation"]["usable"] and overview["federation"]["source"].startswith("file:")
        assert overview["unavailable"] == ["ah", "js", "sh", "zj"]  # nothing synced yet
        assert load_federation_file(ctx).outcome == "unchanged"
    finally:
        ctx.close()


def test_dev_seeding_on_the_full_key_set_registers_only_the_region(settings_factory):
    ctx = bootstrap(settings_factory("zj"))
    try:
        with ctx.unit_of_work() as s:
            regions = {c.region for c, _disabled in list_clients(s)}
        assert regions == {"zj"}
    finally:
        ctx.close()


def _at(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))
