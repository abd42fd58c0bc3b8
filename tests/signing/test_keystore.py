"""KeyStore over keys_dev/ and over an encrypted production-style key directory."""
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from license_svc.config import ConfigError, Settings, DEV_KEYS_DIR
from formats import algorithms as alg
from formats.errors import KeyFormatError
from signing.keystore import KeyStore, KeyStoreError
from signing.x509 import build_certificate, build_name, dump_pem, uscc

KEYS = Path(__file__).resolve().parents[2] / "keys_dev"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(KEYS)


ROLES = [("root", "sm2"), ("root", "rsa"), ("issuing_ca", "sm2"), ("issuing_ca", "rsa"),
         ("licence_signer", "sm2"), ("licence_signer", "rsa"), ("seal_maker", "sm2"),
         ("trust_list", "sm2"), ("node", "sm2"), ("tsa", "sm2"), ("tsa", "rsa"),
         ("status_signer", "sm2"), ("audit_log", "sm2")]


@pytest.mark.parametrize("role,algorithm", ROLES)
def test_credentials_sign_and_chain(ks, role, algorithm):
    cred = ks.credential("sh", role, algorithm)
    assert cred.algorithm == algorithm and cred.role == role and cred.region == "sh"
    assert cred.key.public_key.spki_der() == cred.cert.public_key.dump()
    sig = cred.key.sign(b"msg")
    alg.load_public_key(cred.cert.public_key).verify(sig, b"msg")
    # chain: issuer certificates up to and including the root
    expected = {"root": 0, "issuing_ca": 1}.get(role, 2)
    assert len(cred.chain) == expected
    issuer = cred.cert
    for c in cred.chain:
        assert issuer.issuer == c.subject
        issuer = c
    assert cred.root.dump() == ks.certificate(f"sh-root-{algorithm}").dump()


def test_licence_signer_by_organisation(ks):
    orgs = ks.organisations("js")
    assert len(orgs) >= 2 and orgs[0].name == "江苏省市场监督管理局"
    assert "business_licence" in orgs[0].licence_types and orgs[0].seal["name"]
    for org in orgs:
        cred = ks.credential("js", "licence_signer", "rsa", org_code=org.code)
        assert cred.org_code == org.code and cred.org_name == org.name
    assert ks.credential("js", "licence_signer").org_code == orgs[0].code  # default: the regulator
    assert ks.organisation(orgs[1].code) == orgs[1]
    with pytest.raises(KeyStoreError):
        ks.credential("js", "licence_signer", org_code=ks.organisations("sh")[0].code)


def test_keys_load_once(ks):
    a = ks.credential("zj", "node", "sm2")
    b = ks.credential("zj", "node", "sm2")
    assert a.key is b.key


def test_roots_crls_federation(ks):
    assert len(ks.roots()) == 8 and len(ks.roots("ah", "rsa")) == 1
    assert len(ks.crls("ah")) == 4  # two roots and two issuing CAs
    fed = ks.federation_root()
    assert fed.chain == () and fed.cert.subject.native["organization_name"] == "长三角区域合作办公室"
    assert ks.development_only and set(ks.regions) == {"sh", "js", "zj", "ah"}


def test_unknown_things_give_bilingual_errors(ks):
    with pytest.raises(KeyStoreError) as info:
        ks.credential("sh", "no_such_role")
    assert info.value.message_zh != info.value.message_en
    with pytest.raises(KeyStoreError):
        ks.credential_by_id("nope")
    with pytest.raises(KeyStoreError):
        KeyStore.load(KEYS / "sh")  # no manifest there


# -- production ------------------------------------------------------------------------------

def test_production_refuses_keys_dev(tmp_path):
    with pytest.raises(ConfigError):
        Settings(env="production", keys_dir=DEV_KEYS_DIR).check_keys_allowed()
    Settings(env="development", keys_dir=DEV_KEYS_DIR).check_keys_allowed()
    with pytest.raises(KeyStoreError) as info:
        KeyStore.load(KEYS, production=True)
    assert "开发" in info.value.message_zh
    # A copy of keys_dev elsewhere is still development material: the manifest says so.
    copy = tmp_path / "copied"
    shutil.copytree(KEYS, copy)
    Settings(env="production", keys_dir=copy).check_keys_allowed()  # the path check passes...
    with pytest.raises(KeyStoreError):
        KeyStore.load(copy, production=True)  # ...the manifest check does not


def _mini_store(tmp_path: Path, passphrase: str | None) -> Path:
    """A production-shaped store: root + one licence signer, keys encrypted when asked."""
    out = tmp_path / "keys"
    out.mkdir()
    rk, lk = alg.generate_private_key("sm2"), alg.generate_private_key("sm2")
    root = build_certificate(subject=build_name("Prod Root"), subject_public_key=rk.public_key,
                             issuer_key=rk, not_before=T0, not_after=T0 + timedelta(days=3650), ca=True)
    code = uscc("11310000MB0000010")
    leaf = build_certificate(subject=build_name("签名", organization="上海市市场监督管理局", org_code=code),
                             subject_public_key=lk.public_key, issuer_key=rk, issuer_cert=root,
                             not_before=T0, not_after=T0 + timedelta(days=365),
                             key_usage={"digital_signature", "non_repudiation"})
    items = []
    for id_, role, cert, key in (("root", "root", root, rk), ("signer", "licence_signer", leaf, lk)):
        (out / f"{id_}.pem").write_bytes(dump_pem(cert))
        (out / f"{id_}.key").write_bytes(alg.dump_private_key(key, passphrase))
        items.append({"id": id_, "region": "sh", "role": role, "algorithm": "sm2",
                      "org_name": "上海市市场监督管理局", "org_code": code, "cert": f"{id_}.pem",
                      "key": f"{id_}.key", "crl": None, "issuer": None if id_ == "root" else "root"})
    (out / "manifest.json").write_text(json.dumps({"schema": "license-svc-dev-pki/1", "items": items}))
    return out


def test_encrypted_store_in_production(tmp_path):
    store_dir = _mini_store(tmp_path, "correct horse")
    ks = KeyStore.load(store_dir, "correct horse", production=True)
    cred = ks.credential("sh", "licence_signer")
    cred.key.public_key.verify(cred.key.sign(b"x"), b"x")
    assert [c.dump() for c in cred.chain] == [ks.certificate("root").dump()]
    with pytest.raises(KeyFormatError):
        KeyStore.load(store_dir, "wrong", production=True).credential("sh", "licence_signer")
    with pytest.raises(KeyFormatError):
        KeyStore.load(store_dir, production=True).credential("sh", "licence_signer")


def test_production_refuses_unencrypted_keys(tmp_path):
    store_dir = _mini_store(tmp_path, None)
    with pytest.raises(KeyStoreError):
        KeyStore.load(store_dir, production=True).credential("sh", "licence_signer")
    KeyStore.load(store_dir).credential("sh", "licence_signer")  # fine in development


def test_manifest_cannot_escape_or_mismatch(tmp_path):
    store_dir = _mini_store(tmp_path, None)
    manifest = json.loads((store_dir / "manifest.json").read_text())
    manifest["items"][1]["cert"] = "../../etc/passwd"
    (store_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KeyStoreError):
        KeyStore.load(store_dir)
    manifest["items"][1]["cert"] = "signer.pem"
    manifest["items"][1]["key"] = "root.key"  # the root's key under the signer's certificate
    (store_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KeyStoreError):
        KeyStore.load(store_dir).credential("sh", "licence_signer")
    (store_dir / "manifest.json").write_text("{not json")
    with pytest.raises(KeyStoreError):
        KeyStore.load(store_dir)
