"""The claims of the EL1 and EP1 QR credentials (docs/formats.md "EL1/EP1 QR", docs/formats.md).

    EL1 = "EL1:" + Base45(zlib(COSE_Sign1 by the issuing organisation's licence signer))
          payload {1: iss USCC, 6: iat, 4: exp, -70000: licence claims}
    EP1 = "EP1:" + Base45(zlib(COSE_Sign1 by the holder region's node))
          payload {1: region, 6: iat, 4: exp <= iat+60, 7: cti, -70001: EL1 COSE_Sign1 bytes}
    EP2 = "EP2:" + Base45(COSE_Sign1 by the holder region's node)      (the compact 亮证 code)
          payload {1: region, 6: iat, 4: exp <= iat+60, 7: cti, -70002: presented EL1}

The producer (`signing.qr`), the verifier (`verification.qr`) and the templates (which claims
a type may print) all read the keys from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta, timezone

EL1_PREFIX = "EL1:"
EP1_PREFIX = "EP1:"
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI = 1, 4, 6, 7
CLAIM_LICENCE = -70000
CLAIM_EL1 = -70001
CLAIM_PRESENTED = -70002
EP2_PREFIX = "EP2:"
EP1_MAX_LIFETIME = 60  # seconds an EP1 presentation is valid
# The keys of the -70000 map, in the order docs/formats.md lists them: identifier, type code,
# holder name, holder code, holder code type, valid from, valid until, region, version.
LICENCE_CLAIM_KEYS = ("id", "t", "n", "h", "hid", "vf", "vu", "r", "v")
CHINA_TZ = timezone(timedelta(hours=8))  # licence dates are Beijing calendar dates
# The -70002 map of an EP2 (docs/formats.md "EP2"): the EL1's claims less what the identifier
# and the presenting node already say (t, v and the EL1 iss are segments of the identifier, r
# is the node's region; the identifier without its fixed root), dates as day numbers, and the
# EL1's own kid, iat and exp.
P_ID, P_NUMBER, P_HOLDER, P_HOLDER_CODE, P_FROM, P_UNTIL, P_KID, P_IAT, P_EXP = range(1, 10)
_P_TEXT = {P_ID: "id", P_NUMBER: "n", P_HOLDER: "h", P_HOLDER_CODE: "hid"}
_P_DAYS = {P_FROM: "vf", P_UNTIL: "vu"}
_ID_ROOT = "1.2.156.3005.2."  # 电子证照根代码, the same in every licence identifier


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
    "register" member, docs/formats.md "Licence record, events and status"): when, the record's data hash, and
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


class PresentedClaimsError(ValueError):
    """An EL1 that cannot travel in an EP2 (the producer refuses), or an EP2 map that does not
    rebuild one (the verifier reports a format failure)."""


def _identifier_parts(identifier: str) -> tuple[str, str, int]:
    """(type code, issuer code, version) of a GB/T 36904 identifier
    ``1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`` — the claims an EP2 leaves
    out because the identifier already carries them (docs/formats.md "Identifiers")."""
    parts = identifier.split(".") if identifier.startswith(_ID_ROOT) else []
    if len(parts) != 10 or not parts[8].isdigit() or not (parts[5] and parts[6]):
        raise PresentedClaimsError("not a licence identifier")
    return parts[5], parts[6], int(parts[8])


_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _days(iso: str) -> int:
    """A YYYY-MM-DD date as days since 1970-01-01; refused unless it comes back as written."""
    try:
        days = date.fromisoformat(iso).toordinal() - _EPOCH_DAY
    except (TypeError, ValueError):
        days = -1
    if days < 0 or _iso(days) != iso:
        raise PresentedClaimsError(f"{iso!r} is not a YYYY-MM-DD date")
    return days


def _iso(days) -> str:
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 80000:
        raise PresentedClaimsError("a date is not a day number")
    return date.fromordinal(days + _EPOCH_DAY).isoformat()


def presented_claims(*, issuer_code: str, kid: bytes, iat: int, exp: int, claims: Mapping,
                     region: str) -> dict:
    """The EP2 map of an EL1 presented by `region`'s node.  Refuses an EL1 whose left-out
    claims would not come back equal (`expand_presented`), so a verifier always rebuilds the
    EL1's claims exactly — and with them the digest the issuing register signs."""
    try:
        type_code, issuer, version = _identifier_parts(claims["id"])
    except (KeyError, TypeError, AttributeError):
        raise PresentedClaimsError("the EL1 has no identifier") from None
    if (claims.get("t"), claims.get("v"), claims.get("r"), issuer_code) != (type_code, version, region, issuer):
        raise PresentedClaimsError("type, version, region or issuer differ from the identifier")
    if set(claims) - {"id", "t", "n", "h", "hid", "vf", "vu", "r", "v"} or not {"n", "h", "vf"} <= set(claims):
        raise PresentedClaimsError("the EL1 carries claims an EP2 cannot")
    out: dict = {k: claims[name] for k, name in _P_TEXT.items() if name in claims}
    out[P_ID] = claims["id"][len(_ID_ROOT):]  # the root is the same in every identifier
    out.update({k: _days(claims[name]) for k, name in _P_DAYS.items() if name in claims})
    out.update({P_KID: bytes(kid), P_IAT: int(iat), P_EXP: int(exp)})
    return out


def expand_presented(presented: Mapping, region: str) -> tuple[dict, str, bytes, int, int]:
    """(the EL1's claims map, its iss, kid, iat, exp) from an EP2 map; PresentedClaimsError
    when a member is missing or of the wrong type."""
    if not isinstance(presented, Mapping) or set(presented) - set(range(1, 10)):
        raise PresentedClaimsError("unknown members")
    claims: dict = {}
    for k, name in _P_TEXT.items():
        if k in presented:
            if not isinstance(presented[k], str):
                raise PresentedClaimsError(f"{name} is not text")
            claims[name] = presented[k]
    for k, name in _P_DAYS.items():
        if k in presented:
            claims[name] = _iso(presented[k])
    kid, iat, exp = presented.get(P_KID), presented.get(P_IAT), presented.get(P_EXP)
    if not isinstance(kid, bytes) or not isinstance(iat, int) or not isinstance(exp, int) \
            or isinstance(iat, bool) or isinstance(exp, bool):
        raise PresentedClaimsError("kid, iat or exp missing")
    if not {"id", "n", "h", "vf"} <= set(claims):
        raise PresentedClaimsError("identifier, number, holder or start date missing")
    claims["id"] = _ID_ROOT + claims["id"]
    type_code, issuer, version = _identifier_parts(claims["id"])
    claims.update({"t": type_code, "r": region, "v": version})
    return claims, issuer, kid, iat, exp
