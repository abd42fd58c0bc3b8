"""The seal parser under hostile input: only SealFormatError ever leaves it, and the verifiers
turn that into FORMAT_FAILURE reports.  Also the leniencies for real-world encodings."""

from datetime import timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from formats.der import children as der_children, length as der_len, read as read_element, tlv
from formats.errors import FormatError
from tests.support import seal as S
from verification.report import TOTAL_FAILED
from verification.seal import (SealFormatError, detect, parse_seal, parse_signature, verify_seal,
                               verify_signature)

SEAL = S.seal()
SIG = S.signature(SEAL)


def children(der: bytes) -> list[bytes]:
    return [e.raw for e in der_children(read_element(der, whole=False).contents)]


def parse_any(data: bytes):
    for fn in (parse_seal, parse_signature, detect):
        try:
            fn(data)
        except SealFormatError as exc:
            assert isinstance(exc, FormatError) and exc.message_zh and exc.message_en


# Cuts are fractions, not byte counts: the seal's length varies with its random keys, and
# pytest-xdist needs every worker to collect the same test ids.
@pytest.mark.parametrize("cut", [0, 1, 2, 3, 10, 100, "half", "all-but-one"])
def test_truncated_seal(cut):
    cut = {"half": len(SEAL) // 2, "all-but-one": len(SEAL) - 1}.get(cut, cut)
    with pytest.raises(SealFormatError):
        parse_seal(SEAL[:cut])
    r = verify_seal(SEAL[:cut], at=S.LATER)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "FORMAT_FAILURE")


@pytest.mark.parametrize("cut", [5, "third", "all-but-one"])
def test_truncated_signature(cut):
    cut = {"third": len(SIG) // 3, "all-but-one": len(SIG) - 1}.get(cut, cut)
    with pytest.raises(SealFormatError):
        parse_signature(SIG[:cut])
    r = verify_signature(SIG[:cut], at=S.LATER, data=S.DOCUMENT)
    assert r.sub_indication == "FORMAT_FAILURE" and r.check("signature.format")


def test_wrong_kinds_of_input():
    for bad in (b"", b"\x30\x00", b"\x02\x01\x05", SEAL + b"\x00", b"\x30\x80" + SEAL[2:],
                "text", None, 12):
        with pytest.raises(SealFormatError):
            parse_seal(bad)
    with pytest.raises(SealFormatError):
        parse_signature(SEAL)  # a seal is not a signature
    with pytest.raises(SealFormatError):
        parse_seal(SIG)
    assert (detect(SEAL), detect(SIG)) == ("seal", "signature")


def test_oversized_input_refused_before_parsing():
    with pytest.raises(SealFormatError):
        parse_seal(b"\x30\x84\x7f\xff\xff\xff" + bytes(17 * 1024 * 1024))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutations_never_escape(data):
    base = data.draw(st.sampled_from([SEAL, SIG]))
    i = data.draw(st.integers(0, len(base) - 1))
    op = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
    if op == "flip":
        mutated = base[:i] + bytes([base[i] ^ data.draw(st.integers(1, 255))]) + base[i + 1:]
    elif op == "cut":
        mutated = base[:i]
    elif op == "insert":
        mutated = base[:i] + data.draw(st.binary(min_size=1, max_size=8)) + base[i:]
    else:
        mutated = base[:i] + base[i + data.draw(st.integers(1, 8)):]
    parse_any(mutated)
    r = (verify_seal if base is SEAL else verify_signature)(mutated, at=S.LATER)
    assert r.indication != "TOTAL_PASSED" or mutated == base


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(blob):
    parse_any(blob)
    parse_any(b"\x30" + der_len(len(blob)) + blob)


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.binary(max_size=8).map(lambda b: tlv(0x04, b)),
                    lambda kids: st.lists(kids, max_size=6).map(lambda k: tlv(0x30, b"".join(k))),
                    max_leaves=20))
def test_fuzz_nested_sequences(der):
    parse_any(der)


# -- leniencies -----------------------------------------------------------------------------
def rebuild(der: bytes, path: list[int], new: bytes) -> bytes:
    """Replace the element at `path` (indices into nested SEQUENCEs) and re-wrap the parents."""
    if not path:
        return new
    kids = children(der)
    kids[path[0]] = rebuild(kids[path[0]], path[1:], new)
    return tlv(der[0], b"".join(kids))


def ext_data(oid_der: bytes, critical: bytes | None, value: bytes) -> bytes:
    return tlv(0x30, oid_der + (critical or b"") + tlv(0x04, value))


OID = bytes.fromhex("06032a0304")  # 1.2.3.4


def test_ofdrw_style_extensions_are_read_with_notes():
    seal_info = children(SEAL)[0]
    ext = tlv(0x30, ext_data(OID, b"\x01\x01\x00", b"v"))  # critical FALSE encoded, as ofdrw
    for form, note in ((ext, "critical"), (tlv(0xA0, ext), "[0]"), (tlv(0x04, ext), "OCTET")):
        info = tlv(0x30, b"".join(children(seal_info)) + form)
        der = rebuild(SEAL, [0], info)
        seal = parse_seal(der)
        assert seal.extensions[0].oid == "1.2.3.4" and not seal.extensions[0].critical
        assert any(note in n for n in seal.notes), seal.notes
        r = verify_seal(der, at=S.LATER)
        assert any(note in n for n in r.notes)
        assert r.check("seal.signature").failure == "SIG_CRYPTO_FAILURE"  # content changed


def test_tbs_extensions_tagging_variants():
    tbs = children(SIG)[0]
    ext = tlv(0x30, ext_data(OID, None, b"v"))
    for form, noted in ((tlv(0xA0, ext), False), (ext, True),
                        (tlv(0xA0, ext_data(OID, None, b"v")), True)):
        sig = parse_signature(rebuild(SIG, [0], tlv(0x30, b"".join(children(tbs)) + form)))
        assert sig.extensions[0].value == b"v"
        assert bool(sig.notes) == noted


def test_utctime_and_octet_string_tolerated():
    seal_info = children(SEAL)[0]
    prop = children(seal_info)[2]
    kids = children(prop)
    kids[4] = tlv(0x17, S.T0.strftime("%y%m%d%H%M%SZ").encode())
    der = rebuild(SEAL, [0, 2], tlv(0x30, b"".join(kids)))
    seal = parse_seal(der)
    assert seal.create_date == S.T0 and seal.create_date.tzinfo == timezone.utc
    assert any("UTCTime" in n for n in seal.notes)
    tbs_kids = children(children(SIG)[0])
    data_hash = tbs_kids[3][3:]  # BIT STRING 03 21 00 <32 bytes>
    der = rebuild(SIG, [0, 3], tlv(0x04, data_hash))
    sig = parse_signature(der)
    assert sig.data_hash == data_hash and any("OCTET STRING" in n for n in sig.notes)


def test_strict_on_security_relevant_fields():
    seal_info = children(SEAL)[0]
    header = children(seal_info)[0]
    bad_header = tlv(0x30, tlv(0x16, b"XX") + b"".join(children(header)[1:]))
    with pytest.raises(SealFormatError):
        parse_seal(rebuild(SEAL, [0, 0], bad_header))
    prop_kids = children(children(seal_info)[2])
    prop_kids[2] = tlv(0x02, b"\x07")  # certListType 7
    with pytest.raises(SealFormatError):
        parse_seal(rebuild(SEAL, [0, 2], tlv(0x30, b"".join(prop_kids))))
