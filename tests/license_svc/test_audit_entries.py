"""Audit entries: fixed shape, exact canonical bytes, refusal of ID numbers in clear, holder keys."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from license_svc.audit.entries import Actor, AuditEntry, AuditEntryError
from license_svc.audit.holder import HolderKey, load_holder_key, secret_path
from license_svc.config import Settings

T = datetime(2026, 6, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)


def make(**kw):
    values = dict(time=T, actor=Actor("91310000TEST00000X", "c1", "李四"), action="licence.retrieve")
    values.update(kw)
    return AuditEntry(**values)


def test_canonical_bytes():
    leaf = make(purpose="310100-000-001").leaf()
    data = json.loads(leaf)
    assert leaf == json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert data["time"] == "2026-06-01T08:00:00.123Z"
    assert set(data) == {"v", "time", "actor", "action", "outcome", "licence_id", "holder_ref",
                         "purpose", "legal_basis", "grant_id", "channel", "source_region",
                         "request_id", "detail"}
    other_zone = T.astimezone(timezone(timedelta(hours=8)))
    assert make(time=other_zone).leaf() == make().leaf()


@pytest.mark.parametrize("kw", [
    {"time": datetime(2026, 1, 1)},
    {"action": "Licence Retrieve"},
    {"outcome": "maybe"},
    {"channel": "a b"},
    {"holder_ref": "11010519491231002X"},
    {"source_region": "bj"},
    {"purpose": ""},
    {"legal_basis": "x" * 300},
    {"detail": {"n": 1.5}},
    {"detail": {"who": "11010519491231002X"}},
    {"detail": {"list": ["a", "身份证 11010519491231002x"]}},
    {"actor": Actor("91310000TEST00000X", operator="11010519491231002X")},
    {"request_id": "req-110105194912310038"},
    {"detail": {"big": "x" * 3000}},
])
def test_invalid_entries_are_refused(kw):
    with pytest.raises(AuditEntryError):
        make(**kw).leaf()


def test_numbers_that_are_not_id_numbers_pass():
    # 18 digits with an impossible birth date are serials, not IDs
    make(detail={"serial": "110105199913310031"}).leaf()
    make(licence_id="1.2.156.3005.2.11100000000013338W.SH2026000001.001.K").leaf()


def test_a_mistyped_id_number_is_still_one():
    # A valid birth date with a wrong check digit is an ID number typed wrongly, not a serial:
    # the one filter (formats.privacy) errs on the side of the holder.
    with pytest.raises(AuditEntryError):
        make(detail={"other": "110105194912310037"}).leaf()


def test_holder_key_file(tmp_path):
    s = Settings(data_dir=tmp_path, region="js")
    k1 = load_holder_key(s)
    assert secret_path(s).stat().st_mode & 0o077 == 0
    assert load_holder_key(s).reference("320102199001011234") == k1.reference("320102199001011234")
    assert k1.reference("a") != HolderKey(b"y" * 32).reference("a")
    assert "secret" not in repr(k1) or "<secret>" in repr(k1)
    prod = Settings(data_dir=tmp_path / "p", region="js", env="production")
    with pytest.raises(Exception, match="holder reference secret"):
        load_holder_key(prod)
