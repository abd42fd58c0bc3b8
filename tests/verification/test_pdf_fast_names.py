"""formats.fast_names (remembered RFC 4518 preparation and RDN types/values) gives
exactly what asn1crypto's own methods give — values and exceptions — on random, hostile and
real names, remembered or not."""

from pathlib import Path

from asn1crypto import x509
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from formats import fast_names
from signing.keystore import KeyStore

KEYS = Path(__file__).resolve().parents[2] / "keys_dev"
# Characters RFC 4518 maps, removes or prohibits, and some CJK.
_SPECIAL = "\u00ad\u1806\u034f\ufe0f\u0009\u000a\u0085\u200b\u2028\u0000\u0007\ufffd" \
           "\ue000\udfff\u0340\u0341\u200e\u202a\U000e0001 上海市监局（测试）Ａ"
TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(_SPECIAL)), max_size=40)


def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as exc:  # the exception type is part of the behaviour
        return "raise", type(exc)


def installed():
    return (x509.NameTypeAndValue._ldap_string_prep is fast_names.ldap_string_prep
            and x509.RelativeDistinguishedName._get_values is fast_names.get_values)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_string_prep_equals_asn1crypto(s):
    assert installed()
    expected = outcome(fast_names._ORIGINAL_PREP, None, s)
    assert outcome(fast_names.ldap_string_prep, None, s) == expected
    assert outcome(fast_names.ldap_string_prep, None, s) == expected  # remembered (or not)


def test_long_strings_are_prepared_but_not_kept():
    s = "A" * (fast_names._LONGEST + 1) + "\u00ad"
    before = fast_names._prep.cache_info().currsize
    assert fast_names.ldap_string_prep(None, s) == fast_names._ORIGINAL_PREP(None, s)
    assert fast_names._prep.cache_info().currsize == before


def _rdn(values):
    return x509.RelativeDistinguishedName([
        x509.NameTypeAndValue({"type": t, "value": x509.DirectoryString(name=kind, value=v)})
        for t, v, kind in values])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["common_name", "organization_name",
                                           "organizational_unit_name", "locality_name"]),
                          TEXT, st.sampled_from(["utf8_string", "bmp_string",
                                                 "printable_string"])),
                min_size=1, max_size=3))
def test_rdn_types_and_values_equal_asn1crypto(values):
    try:
        der = _rdn(values).dump()
    except Exception:  # not encodable (lone surrogates, non-printable in PrintableString)
        assume(False)
    rdn = x509.RelativeDistinguishedName.load(der)  # parsed, as from a PDF
    for fast, slow in ((fast_names.get_types, fast_names._ORIGINAL_TYPES),
                       (fast_names.get_values, fast_names._ORIGINAL_VALUES)):
        expected = outcome(slow, None, rdn)
        assert outcome(fast, None, rdn) == expected
        got = outcome(fast, None, rdn)
        assert got == expected
        if got[0] == "ok":  # a fresh copy each time: callers may not spoil the table
            got[1].clear()
            assert outcome(fast, None, rdn) == expected


def test_real_names_compare_as_before():
    ks = KeyStore.load(KEYS)
    certs = [ks.certificate(i["id"]) for i in ks.items()][:40]
    names = [x509.Name.load(c.subject.dump()) for c in certs] + \
            [x509.Name.load(c.issuer.dump()) for c in certs]
    fast = [[a == b for b in names] for a in names]
    hashables = [n.hashable for n in names]
    fast_names_rdn = x509.RelativeDistinguishedName
    saved = (x509.NameTypeAndValue._ldap_string_prep, fast_names_rdn._get_types,
             fast_names_rdn._get_values)
    try:
        x509.NameTypeAndValue._ldap_string_prep = fast_names._ORIGINAL_PREP
        fast_names_rdn._get_types = fast_names._ORIGINAL_TYPES
        fast_names_rdn._get_values = fast_names._ORIGINAL_VALUES
        fresh = [x509.Name.load(n.dump()) for n in names]
        slow = [[a == b for b in fresh] for a in fresh]
        slow_hashables = [n.hashable for n in fresh]
    finally:
        (x509.NameTypeAndValue._ldap_string_prep, fast_names_rdn._get_types,
         fast_names_rdn._get_values) = saved
    assert fast == slow and hashables == slow_hashables
    assert any(not all(row) for row in fast)  # the table is not trivially all-equal
