"""The scenario list (yrd-scenarios/1) as a verifier sees it (verification.scenarios): the good
list passes every check; tampering, a signer other than the pinned federation root, rollback,
staleness and every malformed shape fail with the right check; hostile payloads — signed by the
root itself, so the shape checks are what stops them — never crash and never pass."""

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from formats.envelope import sign_envelope
from license_svc.config import DEV_KEYS_DIR
from license_svc.federation.publish import scenario_content
from license_svc.licences.record import iso_time
from signing.keystore import KeyStore
from verification import scenarios as sc
from verification.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def ks():
    return KeyStore.load(DEV_KEYS_DIR)


def payload(sequence=7, issued=T0, **changes):
    p = {"schema": sc.SCENARIOS_SCHEMA, **scenario_content(), "sequence": sequence,
         "issued_at": iso_time(issued), "next_update": iso_time(issued + timedelta(days=7))}
    p.update(changes)
    return p


def signed(ks, p, cred=None):
    cred = cred or ks.federation_root()
    return sign_envelope(p, cred.key, cred.cert)


def roots(ks):
    return [ks.federation_root().cert.dump()]


def failed(result):
    return [c.name for c in result.report.checks if not c.passed]


@pytest.fixture(scope="module")
def good(ks):
    return signed(ks, payload())


def test_good_list_passes_and_gives_its_matters(ks, good):
    r = sc.verify_scenario_list(good, roots(ks), T0 + timedelta(hours=1), known_sequence=7)
    assert r.report.indication == TOTAL_PASSED, r.report.to_text()
    assert [c.name for c in r.report.checks] == [
        "trust_list.envelope_format", "trust_list.signer_trusted", "trust_list.signature",
        "trust_list.schema", "trust_list.list_format", "trust_list.signer_validity",
        "trust_list.sequence", "trust_list.freshness"]
    matters = {m.matter_code: m for m in sc.matters_of(r.payload)}
    assert matters["YRD000-003-0001"].licence_types == ("11100000MB0000002X001",)
    assert set(matters["YRD000-003-0001"].regions) == {"sh", "js", "zj", "ah"}
    # the JSON bytes give the same answer
    assert sc.verify_scenario_list(json.dumps(good).encode(), roots(ks), T0).ok


def test_tampered_list_fails_the_signature(ks, good):
    env = copy.deepcopy(good)
    env["payload"]["matters"][0]["regions"].append("xx")
    r = sc.verify_scenario_list(env, roots(ks), T0)
    assert r.report.indication == TOTAL_FAILED and "trust_list.signature" in failed(r)
    assert r.payload is None


def test_signed_by_a_region_key_is_not_trusted(ks):
    r = sc.verify_scenario_list(signed(ks, payload(), ks.credential("sh", "trust_list", "sm2")),
                                roots(ks), T0)
    assert r.report.indication == INDETERMINATE
    assert r.report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND" and r.payload is None


def test_other_schemas_are_not_scenario_lists(ks):
    r = sc.verify_scenario_list(signed(ks, payload(schema="yrd-lotl/1")), roots(ks), T0)
    assert failed(r) == ["trust_list.schema"] and r.report.sub_indication == "FORMAT_FAILURE"


def test_rollback_and_staleness(ks, good):
    r = sc.verify_scenario_list(good, roots(ks), T0, known_sequence=8)
    assert failed(r) == ["trust_list.sequence"] and r.report.indication == TOTAL_FAILED
    within = sc.verify_scenario_list(good, roots(ks), T0 + timedelta(days=7, hours=23))
    assert within.ok and within.report.notes
    stale = sc.verify_scenario_list(good, roots(ks), T0 + timedelta(days=8, hours=1))
    assert stale.report.indication == INDETERMINATE and stale.report.sub_indication == "TRY_LATER"
    assert stale.usable and not stale.ok  # a syncing node may keep it; nobody uses it
    future = sc.verify_scenario_list(good, roots(ks), T0 - timedelta(hours=1))
    assert failed(future) == ["trust_list.freshness"] and future.report.indication == TOTAL_FAILED


MATTER = {"matter_code": "YRD000-003-0001", "name": "机动车驾驶证异地换领",
          "licence_types": ["11100000MB0000002X001"], "regions": ["sh"]}


@pytest.mark.parametrize("matters", [
    [], "YRD000", [None], [{**MATTER, "matter_code": "事项 1"}], [{**MATTER, "matter_code": ""}],
    [MATTER, MATTER], [{**MATTER, "name": ""}], [{**MATTER, "name": "名" * 201}],
    [{**MATTER, "licence_types": []}], [{**MATTER, "licence_types": ["a b"]}],
    [{**MATTER, "licence_types": ["X", "X"]}], [{**MATTER, "regions": ["Shanghai"]}],
    [{**MATTER, "regions": "sh"}], [{k: v for k, v in MATTER.items() if k != "regions"}],
    [{**MATTER, "licence_types": [1]}],
])
def test_malformed_matters_fail_the_list_format(ks, matters):
    r = sc.verify_scenario_list(signed(ks, payload(matters=matters)), roots(ks), T0)
    assert failed(r) == ["trust_list.list_format"], r.report.to_text()
    assert r.report.sub_indication == "FORMAT_FAILURE" and r.payload is None


def test_malformed_common_fields(ks):
    for changes in ({"sequence": -1}, {"sequence": "1"}, {"sequence": 2 ** 53}, {"issued_at": "yesterday"},
                    {"next_update": iso_time(T0)}):
        r = sc.verify_scenario_list(signed(ks, payload(**changes)), roots(ks), T0)
        assert failed(r) == ["trust_list.list_format"], changes


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20)


@given(field=st.sampled_from(["matters", "matter_code", "name", "licence_types", "regions",
                              "sequence", "issued_at"]), value=json_values)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_payloads_signed_by_the_root_never_crash(ks, field, value):
    if field in ("matters", "sequence", "issued_at"):
        p = payload(**{field: value})
    else:
        p = payload(matters=[{**MATTER, field: value}])
    r = sc.verify_scenario_list(signed(ks, p), roots(ks), T0)
    if r.payload is not None:  # handed out only when well formed
        sc.matters_of(r.payload)
    else:
        assert r.report.indication != TOTAL_PASSED


@given(st.binary(max_size=200) | st.text(max_size=200))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_bytes_never_crash(ks, data):
    r = sc.verify_scenario_list(data, roots(ks), T0)
    assert r.report.indication != TOTAL_PASSED and r.payload is None
