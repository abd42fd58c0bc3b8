"""The committed development PKI (keys_dev/) and its generator."""
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from signing import devpki
from formats.certs import load_certificate, load_crl
from signing.x509 import certificate_summary, is_valid_uscc

ROOT = Path(__file__).resolve().parents[2]
KEYS = ROOT / "keys_dev"
REGIONS = ("sh", "js", "zj", "ah")


@pytest.fixture(scope="module")
def manifest():
    return json.loads((KEYS / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def clients():
    return json.loads((KEYS / "clients.json").read_text(encoding="utf-8"))


def _gb11643_ok(code: str) -> bool:
    total = sum(int(d) * w for d, w in zip(code[:17], (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
    return len(code) == 18 and code[17] == "10X98765432"[total % 11]


def test_readme_says_development_only():
    text = (KEYS / "README.md").read_text(encoding="utf-8")
    assert "DEVELOPMENT ONLY" in text and "license-svc dev-pki generate" in text


def test_manifest_indexes_existing_files(manifest):
    assert manifest["development_only"] is True
    ids = {i["id"] for i in manifest["items"]}
    for item in manifest["items"]:
        for key in ("region", "role", "algorithm", "org_name", "org_code", "cert", "key"):
            assert item[key], (item["id"], key)
        assert (KEYS / item["cert"]).is_file() and (KEYS / item["key"]).is_file()
        assert item["crl"] is None or (KEYS / item["crl"]).is_file()
        assert item["issuer"] is None or item["issuer"] in ids
        assert is_valid_uscc(item["org_code"]), item
        summary = certificate_summary(load_certificate((KEYS / item["cert"]).read_bytes()))
        assert summary["serial"] == item["serial"] and summary["sha256"] == item["sha256"]
        assert summary["org_code"] == item["org_code"] and summary["org_name"] == item["org_name"]


def test_every_region_has_every_role(manifest):
    have = {(i["region"], i["role"], i["algorithm"]) for i in manifest["items"]}
    for r in REGIONS:
        for role, a in [("root", "sm2"), ("root", "rsa"), ("issuing_ca", "sm2"), ("issuing_ca", "rsa"),
                        ("licence_signer", "sm2"), ("licence_signer", "rsa"), ("seal_maker", "sm2"),
                        ("trust_list", "sm2"), ("node", "sm2"), ("tsa", "rsa"), ("tsa", "sm2"),
                        ("status_signer", "sm2"), ("audit_log", "sm2"), ("revoked_demo", "sm2"),
                        ("expired_demo", "sm2")]:
            assert (r, role, a) in have, (r, role, a)
    assert ("federation", "federation_root", "sm2") in have


def test_organisations_per_region(manifest):
    for r in REGIONS:
        orgs = [o for o in manifest["organisations"] if o["region"] == r]
        assert len(orgs) >= 2
        assert any(o["name"].endswith("市场监督管理局") for o in orgs)
        for o in orgs:
            code = o["code"]
            assert is_valid_uscc(code) and code.startswith("11" + manifest["regions"][r]["code"])
            signers = [i for i in manifest["items"]
                       if i["role"] == "licence_signer" and i["org_code"] == code]
            assert {i["algorithm"] for i in signers} == {"sm2", "rsa"}
            assert o["licence_types"] and o["seal"]["name"].startswith(o["name"])
        # District marriage registries of the civil-affairs bureau, by GB/T 2260 code.
        civil = next(o for o in orgs if o["kind"] == "civil_affairs")
        assert civil["offices"] and all(
            a.startswith(manifest["regions"][r]["code"][:2]) and n.endswith("区民政局")
            for a, n in civil["offices"].items())
        assert [o for o in orgs if o.get("offices")] == [civil]


def test_profiles(manifest):
    for item in manifest["items"]:
        cert = load_certificate((KEYS / item["cert"]).read_bytes())
        ku = set(cert.key_usage_value.native)
        if item["role"] in ("root", "issuing_ca"):
            assert cert.ca and {"key_cert_sign", "crl_sign"} <= ku
            assert cert.max_path_length == (1 if item["role"] == "root" else 0)
        elif item["role"] == "licence_signer":
            assert not cert.ca and ku == {"digital_signature", "non_repudiation"}
        elif item["role"] == "tsa":
            ext = next(e for e in cert["tbs_certificate"]["extensions"]
                       if e["extn_id"].native == "extended_key_usage")
            assert ext["critical"].native and ext["extn_value"].native == ["time_stamping"]
        nb, na = cert.not_valid_before, cert.not_valid_after
        years = {"root": 20, "federation_root": 20, "issuing_ca": 10}.get(item["role"], 5)
        if item["role"] != "expired_demo":
            assert nb == devpki.GENERATED_AT and na.year - nb.year == years, item["id"]


def test_crls_revoke_the_demo_certificates(manifest):
    by_id = {i["id"]: i for i in manifest["items"]}
    for item in manifest["items"]:
        if item["role"] != "revoked_demo":
            continue
        ca = by_id[item["issuer"]]
        crl = load_crl((KEYS / ca["crl"]).read_bytes())
        serials = {e["user_certificate"].native for e in crl["tbs_cert_list"]["revoked_certificates"]}
        assert int(item["serial"], 16) in serials


def test_clients(clients):
    ids = [c["client_id"] for c in clients]
    keys = [c["api_key"] for c in clients]
    assert len(set(ids)) == len(ids) and len(set(keys)) == len(keys)
    for r in REGIONS:
        mine = [c for c in clients if c["region"] == r]
        roles = [role for c in mine for role in c["roles"]]
        assert roles.count("issuer") >= 2
        for role in ("relying", "citizen", "auditor", "admin"):
            assert role in roles
        for c in mine:
            assert c["api_key"].startswith(f"dev-{r}-") and len(c["api_key"]) > 30
            if "issuer" in c["roles"]:
                assert c["licence_types"] and is_valid_uscc(c["org_code"])
        citizen = next(c for c in mine if c["client_id"] == f"{r}-citizen")
        assert _gb11643_ok(citizen["holder_code"])
        company = next(c for c in mine if c["client_id"] == f"{r}-company")
        assert is_valid_uscc(company["holder_code"])


def test_generator_is_fast_and_reproducible_in_structure(tmp_path, manifest):
    started = time.perf_counter()
    fresh = devpki.generate(tmp_path / "kd")
    assert time.perf_counter() - started < 20
    shape = lambda m: sorted((i["id"], i["role"], i["algorithm"], i["org_code"], i["not_after"])
                             for i in m["items"])
    assert shape(fresh) == shape(manifest)
    assert fresh["organisations"] == manifest["organisations"]  # offices and seals included
    assert {i["serial"] for i in fresh["items"]}.isdisjoint({i["serial"] for i in manifest["items"]})
    # Regenerating over an existing folder replaces it cleanly.
    again = devpki.generate(tmp_path / "kd", at=datetime(2027, 1, 1, tzinfo=timezone.utc))
    files = {p.name for p in (tmp_path / "kd" / "sh").iterdir()}
    assert files == {Path(i[k]).name for i in again["items"] if i["region"] == "sh"
                     for k in ("cert", "key", "crl") if i[k]}


def test_citizen_id_check_digit_matches_known_numbers():
    for code in ("360426199101010071", "13043419840726291X", "11010519491231002X"):
        assert devpki.citizen_id(code[:6], code[6:14], int(code[14:17])) == code
