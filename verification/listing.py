"""Trust from the synced lists, and the checks only the lists can answer (长三角互认).

A region trusts another only through that region's signed trust list (docs/federation.md): the list
says which certificates sign licences, seals, presentations, status answers and timestamps for
the region, for which organisation and licence types, and since when a certificate is
withdrawn.  Cryptography alone says "this key signed this"; these checks say whether that key
was entitled to sign *this* licence, and whether it still was:

- trust.anchor      every signature's certificate is named by a verified list (which one, of
                    which sequence and age, goes into the report);
- trust.role        …in the role it signed in (a node key does not sign licences);
- binding.issuer    the licence identifier's issuer code is the signer's organisation;
- binding.type      the licence type is one the list names for that organisation;
- binding.region    the region the content claims (EL1 r, EP1 iss) is the signer's region, and
                    an EP1 presents only its own region's EL1;
- binding.register  when the issuing node's register answers, the PDF's data hash / the EL1's
                    claims are the ones it issued;
- trust.withdrawal  a certificate withdrawn since T: anything it signed at or after T is
                    REVOKED; before T only counts with proof another key holds — a trusted
                    timestamp, or the register's signed answer that this very content was
                    issued before T.  The signer's own times (EL1 iat, CMS signing time, seal
                    time) prove nothing once its key may be in an attacker's hands; without
                    proof the answer is INDETERMINATE, never TOTAL_PASSED.

Pure functions of (report, index, time, status lookup): the service builds the index from
`license_svc.federation.sync.trust_state(...).payloads()`, the CLI from list files.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Mapping

from formats.canonical_json import parse_time
from formats.identifier import IdentifierError, parse_identifier
from formats.qr_claims import claims_digest
from verification.checks import ListingCheck
from verification.report import Report, Signed

ROLE_LICENCE_SIGNER = "licence_signer"
ROLE_NODE = "node"


@dataclass(frozen=True)
class ListRef:
    """Which verified list a certificate came from."""

    region: str
    sequence: int
    issued_at: datetime

    def describe(self, at: datetime) -> dict:
        return {"region": self.region, "sequence": self.sequence,
                "issued_at": self.issued_at.isoformat(),
                "age_seconds": max(0, int((at - self.issued_at).total_seconds()))}


@dataclass(frozen=True)
class Listed:
    """One trust-list entry."""

    role: str
    region: str
    org_code: str
    org_name: str
    cert_der: bytes
    status: str                          # granted | withdrawn
    since: datetime
    licence_types: tuple[str, ...] | None  # None: the list does not say (older lists)
    source: ListRef


class TrustIndex:
    """The entries of every usable list, by certificate."""

    def __init__(self, entries: Iterable[Listed] = ()):
        self._by_digest: dict[bytes, Listed] = {}
        for e in entries:
            self._by_digest[hashlib.sha256(e.cert_der).digest()] = e

    @classmethod
    def from_trust_lists(cls, payloads: Iterable[Mapping]) -> "TrustIndex":
        """From region trust-list payloads whose envelopes the caller has verified
        (`verification.trustlist.verify_trust_list`)."""
        entries = []
        for p in payloads:
            ref = ListRef(p["region"], int(p["sequence"]), _time(p["issued_at"]))
            for e in p.get("entries", []):
                types = e.get("licence_types")
                entries.append(Listed(
                    e["role"], p["region"], e.get("org_code") or "", e.get("org_name") or "",
                    base64.b64decode(e["cert"]), e["status"], _time(e["since"]),
                    tuple(types) if isinstance(types, list) else None, ref))
        return cls(entries)

    def find(self, cert_der: bytes) -> Listed | None:
        return self._by_digest.get(hashlib.sha256(bytes(cert_der)).digest())

    def certs(self, *roles: str, granted_only: bool = False) -> list[bytes]:
        return [e.cert_der for e in self._by_digest.values()
                if e.role in roles and (e.status == "granted" or not granted_only)]

    def sources(self) -> list[ListRef]:
        return sorted({e.source for e in self._by_digest.values()}, key=lambda r: r.region)

    def __len__(self) -> int:
        return len(self._by_digest)


def _time(text: str) -> datetime:
    """A time of a verified list (checked when the list was): an error here is a bug."""
    value = parse_time(text)
    if value is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return value


def check_against_lists(report: Report, index: TrustIndex, at: datetime,
                        status_lookup: Callable[[str], Mapping] | None = None) -> None:
    """Add the checks above for every signature the verifiers recorded."""
    if not report.signatures:
        return
    register = _register(report, status_lookup)
    anchors = []
    el1_region = next((s.region for s in report.signatures
                       if s.role == ROLE_LICENCE_SIGNER and s.region), None)
    for s in report.signatures:
        listed = index.find(s.cert_der)
        if listed is None:
            report.add(ListingCheck.TRUST_ANCHOR, False, "签名证书不在任何已同步的信任列表中 / the signing "
                       "certificate is in no synced trust list", failure="NO_CERTIFICATE_CHAIN_FOUND",
                       indeterminate=True)
            continue
        anchors.append(listed.source.describe(at))
        report.add(ListingCheck.TRUST_ANCHOR, True, f"{listed.region} 信任列表第 {listed.source.sequence} 版 / "
                   f"{listed.region} trust list, sequence {listed.source.sequence}")
        if listed.role != s.role:
            report.add(ListingCheck.TRUST_ROLE, False, f"证书在信任列表中的角色是 {listed.role}，不能以 {s.role} "
                       f"身份签名 / listed as {listed.role}, not {s.role}",
                       failure="SIG_CONSTRAINTS_FAILURE")
            continue
        if s.role == ROLE_LICENCE_SIGNER:
            content_ok = _bind_licence(report, s, listed, register)
        else:
            content_ok = False
            if s.role == ROLE_NODE:
                _bind_presentation(report, s, listed, el1_region)
        _withdrawal(report, s, listed, register if content_ok else None)
    if anchors:
        report.signer["trust_lists"] = anchors


def _register(report: Report, lookup) -> dict | None:
    """The issuing node's signed register facts about this licence (issued_at, data_hash,
    qr_claims_sha256), when its status answer carries them."""
    ident = report.licence.get("id") or report.licence.get("identifier")
    if lookup is None or not isinstance(ident, str):
        return None
    try:
        answer = lookup(ident)
    except Exception:  # the status check has already reported an unreachable source
        return None
    facts = answer.get("register") if isinstance(answer, Mapping) else None
    return dict(facts) if isinstance(facts, Mapping) else None


def _bind_licence(report: Report, s: Signed, listed: Listed, register: dict | None) -> bool:
    """Issuer, type, region and register bindings; True when the register vouches for this
    content (the proof a withdrawn signer's older licences need).  A document that names no
    licence (a contract stamped with a seal, a plain signed PDF) has nothing to bind."""
    ident = report.licence.get("id") or report.licence.get("identifier")
    if ident is None:
        return False
    try:
        parsed = parse_identifier(ident) if isinstance(ident, str) else None
    except IdentifierError:
        parsed = None
    if parsed is None:
        report.add(ListingCheck.BINDING_ISSUER, False, "证照标识缺失或无效，无法核对签发机构 / no valid licence "
                   "identifier to bind the signer to", failure="SIG_CONSTRAINTS_FAILURE")
        return False
    ok = parsed.issuer_code == listed.org_code
    report.add(ListingCheck.BINDING_ISSUER, ok, f"签发机构 {parsed.issuer_code} 即签名证书所属机构 / the "
               "identifier's issuer is the signer's organisation" if ok else
               f"证照标识中的签发机构 {parsed.issuer_code} 不是签名证书所属机构 {listed.org_code or '?'}"
               f" / the identifier names issuer {parsed.issuer_code}, the signer belongs to "
               f"{listed.org_code or '?'}", failure="SIG_CONSTRAINTS_FAILURE")
    if listed.licence_types is None:
        report.add(ListingCheck.BINDING_TYPE, False, f"{listed.region} 信任列表未列出该机构可签发的证照类型 / the "
                   "trust list does not say which licence types this organisation issues",
                   failure="GENERIC", indeterminate=True)
    else:
        ok = parsed.type_code in listed.licence_types
        report.add(ListingCheck.BINDING_TYPE, ok, f"证照类型 {parsed.type_code} 在该机构的签发范围内 / the "
                   "organisation is listed for this licence type" if ok else
                   f"该机构未被列为证照类型 {parsed.type_code} 的签发机构 / the organisation is not "
                   f"listed for licence type {parsed.type_code}", failure="SIG_CONSTRAINTS_FAILURE")
    if s.region is not None:
        ok = s.region == listed.region
        report.add(ListingCheck.BINDING_REGION, ok, f"地区 {s.region} 与签名者一致 / region matches the signer"
                   if ok else f"声明的地区 {s.region} 不是签名者所在地区 {listed.region} / claims region "
                   f"{s.region}, signed by {listed.region}", failure="SIG_CONSTRAINTS_FAILURE")
    if register is None:
        return False
    if s.claims is not None and register.get("qr_claims_sha256"):
        ok = claims_digest(s.claims) == register["qr_claims_sha256"]
        what_zh, what_en = "二维码内容", "the code's claims"
    elif report.licence.get("data_hash") and register.get("data_hash"):
        ok = str(report.licence["data_hash"]).lower() == str(register["data_hash"]).lower()
        what_zh, what_en = "证照数据摘要", "the licence data hash"
    else:
        return False
    report.add(ListingCheck.BINDING_REGISTER, ok, f"{what_zh}与签发地登记一致 / {what_en} match the issuing "
               "register" if ok else f"{what_zh}与签发地登记不符 / {what_en} differ from the issuing "
               "register", failure="HASH_FAILURE")
    return ok


def _bind_presentation(report: Report, s: Signed, listed: Listed, el1_region: str | None) -> None:
    ok = s.region == listed.region and (el1_region is None or el1_region == listed.region)
    report.add(ListingCheck.BINDING_PRESENTATION_REGION, ok, f"{listed.region} 节点出示本地区证照 / the "
               f"{listed.region} node presents its own region's licence" if ok else
               f"{s.region} 亮证码由 {listed.region} 节点签名，内含 {el1_region or '?'} 证照 / a "
               f"presentation claiming {s.region}, signed by the {listed.region} node, wrapping a "
               f"{el1_region or '?'} licence", failure="SIG_CONSTRAINTS_FAILURE")


def _withdrawal(report: Report, s: Signed, listed: Listed, register: dict | None) -> None:
    if listed.status != "withdrawn":
        return
    since = listed.since
    if s.proven_before is not None and s.proven_before < since:
        # Proof by another key outranks anything the signer itself says about the time.
        report.add(ListingCheck.TRUST_WITHDRAWAL, True, f"签名证书已于 {since.isoformat()} 撤销，但{s.proof or '时间戳'}"
                   f"证明签名早于撤销 / withdrawn on {since.isoformat()}, but a timestamp proves the "
                   "signature existed before")
    elif s.claimed_at is not None and s.claimed_at >= since:
        report.add(ListingCheck.TRUST_WITHDRAWAL, False, f"签名证书已于 {since.isoformat()} 被 {listed.region} "
                   f"撤销，此后所签无效 / the certificate was withdrawn by {listed.region} on "
                   f"{since.isoformat()}; this was signed after", failure="REVOKED")
    elif register is not None and _before(register.get("issued_at"), since):
        report.add(ListingCheck.TRUST_WITHDRAWAL, True, f"签名证书已于 {since.isoformat()} 撤销，签发地登记证明此证照"
                   f"签发于撤销之前 / withdrawn on {since.isoformat()}, but the issuing register "
                   "vouches this content was issued before")
    else:
        report.add(ListingCheck.TRUST_WITHDRAWAL, False, f"签名证书已于 {since.isoformat()} 被撤销，签名者自述的"
                   f"时间不能证明签名早于撤销 / the certificate was withdrawn on {since.isoformat()} "
                   "and nothing but the signer's own claim dates this signature before that",
                   failure="REVOKED_NO_POE", indeterminate=True)


def _before(text, since: datetime) -> bool:
    value = parse_time(text)
    return value is not None and value < since
