"""Settings documented in docs/operations.md that used to be read and then ignored: each one
here changes what the service does."""

from __future__ import annotations

import json
import shutil

import pytest

from license_svc import templates
from license_svc.config import ConfigError, load_settings
from license_svc.context import load_keystore


@pytest.mark.parametrize("backend", ["gmssl", "tongsuopy"])
def test_sm2_backend_setting_picks_the_engine_the_key_store_signs_with(tmp_path, backend):
    settings = load_settings({"LICENSE_SVC_SM2_BACKEND": backend, "LICENSE_SVC_DATA_DIR": str(tmp_path)})
    key = load_keystore(settings).credential("sh", "licence_signer", "sm2").key
    assert key.backend == backend
    # And the key signs: the other engine verifies it.
    signature = key.sign(b"licence")
    key.public_key.verify(signature, b"licence")


def test_sm2_backend_setting_is_checked_at_start_up(tmp_path):
    with pytest.raises(ConfigError, match="tongsuopy or gmssl"):
        load_settings({"LICENSE_SVC_SM2_BACKEND": "bouncycastle", "LICENSE_SVC_DATA_DIR": str(tmp_path)})


@pytest.fixture
def template_dirs():
    yield
    templates.use_template_dirs(())  # back to the built-in types for the other tests


def _copy_type(src: str, dst_root, folder: str, **meta_changes):
    dst = dst_root / folder
    shutil.copytree(templates.TEMPLATES_DIR / src, dst)
    meta = json.loads((dst / "template.json").read_text("utf-8"))
    meta.update(meta_changes)
    (dst / "template.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    return dst


def test_templates_dir_setting_adds_and_replaces_types(tmp_path, template_dirs):
    from license_svc.context import AppContext

    extra = tmp_path / "types"
    _copy_type("business_licence", extra, "business_licence", name="营业执照（地方版）")
    builtin = templates.load_templates()["food_business_licence"]
    _copy_type("food_business_licence", extra, "food_permit_copy",
               type_code=builtin.type_code[:-1] + ("8" if builtin.type_code[-1] != "8" else "7"))
    settings = load_settings({"LICENSE_SVC_TEMPLATES_DIR": str(extra),
                              "LICENSE_SVC_DATA_DIR": str(tmp_path)})
    assert settings.templates_dirs == (extra,)
    AppContext.create(settings).close()
    loaded = templates.load_templates()
    assert loaded["business_licence"].name == "营业执照（地方版）"  # replaced by folder name
    assert "food_permit_copy" in loaded and "marriage_certificate" in loaded  # added; kept


def test_templates_dir_with_a_clashing_type_code_fails_at_start_up(tmp_path, template_dirs):
    extra = tmp_path / "types"
    _copy_type("business_licence", extra, "another_business_licence")  # same type code
    with pytest.raises(templates.TemplateError, match="used by both"):
        templates.use_template_dirs((extra,))
    assert "another_business_licence" not in templates.load_templates()


def test_templates_dir_that_does_not_exist_fails_at_start_up(tmp_path, template_dirs):
    with pytest.raises(templates.TemplateError, match="not found"):
        templates.use_template_dirs((tmp_path / "missing",))


def test_an_installed_package_without_keys_dev_says_how_to_get_a_key_store(tmp_path, monkeypatch):
    from license_svc import config, context
    from signing.keystore import KeyStoreError

    missing = tmp_path / "site-packages" / "keys_dev"
    monkeypatch.setattr(config, "DEV_KEYS_DIR", missing)
    settings = load_settings({"LICENSE_SVC_DATA_DIR": str(tmp_path)}, keys_dir=missing)
    with pytest.raises(KeyStoreError, match="LICENSE_SVC_KEYS_DIR") as info:
        context.load_keystore(settings)
    assert "dev-pki generate" in info.value.message_zh
