"""The claims of the EL1 and EP1 QR credentials (docs/formats.md "EL1/EP1 QR", docs/formats.md).

    EL1 = "EL1:" + Base45(zlib(COSE_Sign1 by the issuing organisation's licence signer))
          payload {1: iss USCC, 6: iat, 4: exp, -70000: licence claims}
    EP1 = "EP1:" + Base45(zlib(COSE_Sign1 by the holder region's node))
          payload {1: region, 6: iat, 4: exp <= iat+60, 7: cti, -70001: EL1 COSE_Sign1 bytes}

The producer (`signing.qr`), the verifier (`verification.qr`) and the templates (which claims
a type may print) all read the keys from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, timezone

EL1_PREFIX = "EL1:"
EP1_PREFIX = "EP1:"
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI = 1, 4, 6, 7
CLAIM_LICENCE = -70000
CLAIM_EL1 = -70001
EP1_MAX_LIFETIME = 60  # seconds an EP1 presentation is valid
# The keys of the -70000 map, in the order docs/formats.md lists them: identifier, type code,
# holder name, holder code, holder code type, valid from, valid until, region, version.
LICENCE_CLAIM_KEYS = ("id", "t", "n", "h", "hid", "vf", "vu", "r", "v")
CHINA_TZ = timezone(timedelta(hours=8))  # licence dates are Beijing calendar dates


def el1_claims(text: str) -> dict:
    """The licence claims map of an EL1 text (no signature check: for a register describing
    the codes it issued itself)."""
    import zlib

    import base45
    import cbor2

    if not text.startswith(EL1_PREFIX):
        raise ValueError("not an EL1 code")
    obj = cbor2.loads(zlib.decompress(base45.b45decode(text[len(EL1_PREFIX):])))
    return dict(cbor2.loads(obj.value[2])[CLAIM_LICENCE])


def register_facts(*, issued_at, data_hash: str, el1: str | None) -> dict:
    """What an issuing node's signed status answer says about the content it issued (the
    "register" member, docs/formats.md "Status responses"): when, the record's data hash, and
    the digest of the EL1's claims.  With them a verifier can tell a genuine older licence of a
    signer withdrawn for key compromise from a new forgery backdated by the same key."""
    from formats.canonical_json import iso_time

    facts = {"issued_at": iso_time(issued_at), "data_hash": data_hash}
    if el1:
        facts["qr_claims_sha256"] = claims_digest(el1_claims(el1))
    return facts


class LazyRegisterFacts(Mapping):
    """`register_facts`, computed on first use: a status lookup runs on every verification,
    the facts are needed only when a listing check compares them (decoding the stored EL1 costs
    about as much as the lookup itself)."""

    def __init__(self, load):
        self._load, self._facts = load, None  # load() -> register_facts(...) keyword arguments

    def _get(self) -> dict:
        if self._facts is None:
            self._facts = register_facts(**self._load())
        return self._facts

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def claims_digest(claims) -> str:
    """SHA-256 (hex) of the canonical CBOR of an EL1's licence claims map: what the issuing
    node's signed status answer carries so a verifier can tell that a code's content is the one
    the register issued (the binding that still holds when the signer's key is compromised)."""
    import cbor2

    from formats.algorithms.digests import sha256

    return sha256(cbor2.dumps(dict(claims), canonical=True)).hex()
