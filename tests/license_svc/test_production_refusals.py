"""Issue 14 item 7: production refuses development material by what it is, not where it lies —
a copy of keys_dev/ (its manifest's development flag removed), one dev certificate slipped into
a production store, API clients seeded from keys_dev/clients.json in development, and a plain
key whose file merely contains the words "ENCRYPTED PRIVATE KEY"."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from formats import algorithms as alg
from license_svc.auth.clients import seed_clients
from license_svc.config import DEV_KEYS_DIR, ConfigError, Settings
from license_svc.dev_material import MATERIAL_FILE, disable_dev_clients, scan
from signing.keystore import KeyStore, KeyStoreError
from tests.signing.test_keystore import _mini_store


def _copy_without_flag(tmp_path):
    copy = tmp_path / "not-dev"
    shutil.copytree(DEV_KEYS_DIR, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.pop("development_only", None)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def test_a_copy_of_keys_dev_is_refused_in_production(tmp_path):
    from license_svc.bootstrap import bootstrap

    copy = _copy_without_flag(tmp_path)
    settings = Settings(env="production", data_dir=tmp_path / "data", keys_dir=copy)
    settings.check_keys_allowed()                 # the path check alone lets it through
    KeyStore.load(copy, production=True)          # and so does the manifest once unflagged
    with pytest.raises(ConfigError) as info:
        bootstrap(settings)
    assert "开发测试 PKI" in info.value.message_zh and "DEVELOPMENT" in info.value.message_en
    assert not (tmp_path / "data" / "license-svc-sh.db").exists(), "refused before anything is written"


def test_one_dev_certificate_in_a_production_store_is_refused(tmp_path):
    from license_svc.bootstrap import bootstrap

    store = _mini_store(tmp_path, "correct horse")
    shutil.copy(DEV_KEYS_DIR / "sh" / "sh-root-sm2.cert.pem", store / "extra-anchor.pem")
    settings = Settings(env="production", data_dir=tmp_path / "data", keys_dir=store,
                        key_passphrase="correct horse")
    with pytest.raises(ConfigError, match="extra-anchor.pem"):
        bootstrap(settings)


def test_clients_seeded_from_keys_dev_stop_working_in_production(http, ctx):
    with ctx.unit_of_work() as s:   # the database served development first
        seeded = seed_clients(s, DEV_KEYS_DIR / "clients.json", "sh")
    key = next(c["api_key"] for c in json.loads((DEV_KEYS_DIR / "clients.json").read_text())
               if c["client_id"] == seeded[0].client_id)
    auth = {"Authorization": f"Bearer {key}"}
    assert http.get("/api/v1/grants", headers=auth).status_code != 401   # development: accepted
    ctx.settings = dataclasses.replace(ctx.settings, env="production")
    assert http.get("/api/v1/grants", headers=auth).status_code == 401   # production: never
    with ctx.unit_of_work() as s:
        disabled = disable_dev_clients(s)
    assert sorted(disabled) == sorted(c.client_id for c in seeded)


def test_a_plain_key_labelled_encrypted_is_refused_in_production(tmp_path):
    store = _mini_store(tmp_path, None)
    key_file = store / "signer.key"
    key_file.write_bytes(b"# ENCRYPTED PRIVATE KEY (not really)\n" + key_file.read_bytes())
    assert not alg.is_encrypted_private_key(key_file.read_bytes())
    with pytest.raises(KeyStoreError, match="unencrypted"):
        KeyStore.load(store, production=True).credential("sh", "licence_signer")
    (tmp_path / "enc").mkdir()
    encrypted = _mini_store(tmp_path / "enc", "pw")
    assert alg.is_encrypted_private_key((encrypted / "signer.key").read_bytes())
    KeyStore.load(encrypted, "pw", production=True).credential("sh", "licence_signer")


def test_the_shipped_list_matches_keys_dev():
    """Regenerate with `python -m license_svc.dev_material` after `dev-pki generate`."""
    listed = json.loads(MATERIAL_FILE.read_text())
    assert listed == scan(DEV_KEYS_DIR) and len(listed["certificate_sha256"]) > 50
