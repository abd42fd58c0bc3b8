"""Cross-region trust lists as a verifier sees them (docs/federation.md): a region's signed trust list
("yrd-trust-list/2", and /1 from older nodes) and the federation's signed list of lists
("yrd-lotl/1").

Why a report and not a yes/no: a node that syncs lists must tell apart "forged or malformed,
throw it away" (TOTAL_FAILED), "signed by someone we do not trust" (INDETERMINATE,
NO_CERTIFICATE_CHAIN_FOUND) and "genuine but past next_update beyond the grace, ask again"
(INDETERMINATE, TRY_LATER) — and an operator running `license-svc trust-list verify` wants to
see which check failed.  Named checks (`verification.checks.TrustListCheck`), in order:

    trust_list.envelope_format   the {"payload", "signature"} envelope decodes
    trust_list.signer_trusted    the signing certificate is one we pinned (federation root for
                                 the list of lists; the trust_list_signers the federation list
                                 names for the region)
    trust_list.signature         the signature verifies over canonical_json(payload)
    trust_list.schema            "yrd-trust-list/2" or /1, "yrd-lotl/1" (or a registered kind:
                                 "yrd-scenarios/1", verification/scenarios.py)
    trust_list.list_format       every field has the type and shape docs/federation.md gives it
    trust_list.signer_validity   the signing certificate was valid when the list was issued
    trust_list.region            the list is for the region we asked about (trust lists)
    trust_list.sequence          not lower than the sequence we already hold (rollback)
    trust_list.freshness         not issued in the future; not past next_update beyond the grace

Pure: trust material and the time `at` come in as arguments; nothing here reads the clock.
`payload` is handed back only when the list is authentic and well formed, so a caller cannot
use an unverified list by mistake.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from asn1crypto import x509

from formats import algorithms as alg
from formats.algorithms import registry
from formats.errors import InvalidSignature
from formats.envelope import EnvelopeError, check_signature, open_envelope, parse_json
from verification.checks import TrustListCheck
from verification.report import Report

# What we publish.  /2 adds the role "witness" (audit-checkpoint cosigners) and the optional
# licence-signer member "licence_types"; an outside reader written to docs/federation.md's /1 may refuse
# an unknown role, so the new content goes under a new schema name and /1 lists are still read.
TRUST_LIST_SCHEMA = "yrd-trust-list/2"
TRUST_LIST_SCHEMA_V1 = "yrd-trust-list/1"
LOTL_SCHEMA = "yrd-lotl/1"
ENTRY_ROLES_V1 = ("licence_signer", "seal_maker", "tsa", "status_signer", "node", "audit_log")
ENTRY_ROLES = ENTRY_ROLES_V1 + ("witness",)
ENTRY_STATUSES = ("granted", "withdrawn")
DEFAULT_GRACE = timedelta(hours=24)
DEFAULT_SKEW = timedelta(minutes=5)
MAX_ENTRIES = 5000
MAX_REGIONS = 64
MAX_SIGNERS = 16
MAX_SEQUENCE = 2 ** 53 - 1  # exact in every JSON reader

KIND_TRUST_LIST, KIND_LOTL = "trust-list", "federation"
_REGION = re.compile(r"^[a-z]{2,16}$")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


@dataclass(frozen=True)
class Entry:
    """One trust list entry, parsed."""

    role: str
    org_name: str
    org_code: str
    algorithm: str
    cert_der: bytes
    status: str
    since: datetime

    def granted_at(self, at: datetime) -> bool:
        """Trusted for something signed at `at`: granted from `since`, or withdrawn after `at`."""
        if self.status == "granted":
            return at >= self.since
        return at < self.since


@dataclass
class ListResult:
    kind: str
    report: Report
    payload: dict | None = None         # only when authentic and well formed
    signer_der: bytes | None = None
    sequence: int | None = None
    issued_at: datetime | None = None
    next_update: datetime | None = None
    entries: list[Entry] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.report.indication == "TOTAL_PASSED"

    @property
    def usable(self) -> bool:
        """Authentic, well formed and not a rollback — possibly stale.  What a syncing node may
        keep as its newest copy (staleness is judged again whenever the list is used)."""
        if self.payload is None:
            return False
        return all(c.passed or c.name == TrustListCheck.FRESHNESS and c.indeterminate
                   for c in self.report.checks)

    @property
    def region(self) -> str | None:
        return self.payload.get("region") if self.payload else None


class _Malformed(ValueError):
    pass


# -- entry points ----------------------------------------------------------------------------

def verify_trust_list(envelope, signers: Iterable, at: datetime, *, region: str | None = None,
                      known_sequence: int | None = None, grace: timedelta = DEFAULT_GRACE,
                      skew: timedelta = DEFAULT_SKEW) -> ListResult:
    """Check a region trust list (an envelope dict, or its JSON bytes) against the certificates
    allowed to sign it (DER bytes, base64 text or asn1crypto certificates), as of `at`."""
    return _verify(KIND_TRUST_LIST, envelope, signers, at, region, known_sequence, grace, skew)


def verify_federation_list(envelope, roots: Iterable, at: datetime, *,
                           known_sequence: int | None = None, grace: timedelta = DEFAULT_GRACE,
                           skew: timedelta = DEFAULT_SKEW) -> ListResult:
    """Check the federation's list of lists against the pinned federation root certificate(s)."""
    return _verify(KIND_LOTL, envelope, roots, at, None, known_sequence, grace, skew)


def trust_list_signers(lotl_payload: Mapping, region: str) -> list[bytes]:
    """The certificates (DER) the federation list allows to sign `region`'s trust list."""
    for r in lotl_payload.get("regions", []):
        if r.get("region") == region:
            return [base64.b64decode(c) for c in r.get("trust_list_signers", [])]
    return []


def region_urls(lotl_payload: Mapping) -> dict[str, str]:
    return {r["region"]: r["node_url"] for r in lotl_payload.get("regions", [])}


def entries_of(payload: Mapping) -> list[Entry]:
    """The entries of a verified trust list payload."""
    return [_entry(e, f"entries[{i}]") for i, e in enumerate(payload.get("entries", []))]


# -- the checks --------------------------------------------------------------------------------

def _verify(kind, envelope, pinned, at, region, known_sequence, grace, skew) -> ListResult:
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    result = ListResult(kind, Report(subject=kind))
    report = result.report
    try:
        if isinstance(envelope, (bytes, bytearray, str)):
            envelope = parse_json(envelope)
        opened = open_envelope(envelope)
    except EnvelopeError as exc:
        report.fail_format(TrustListCheck.ENVELOPE_FORMAT, f"{exc.message_zh} / {exc.message_en}")
        return result
    report.add(TrustListCheck.ENVELOPE_FORMAT, True, opened.alg)

    pinned_ders = _ders(pinned)
    trusted = opened.cert_der in pinned_ders
    who = opened.cert.subject.human_friendly
    if trusted:
        report.add(TrustListCheck.SIGNER_TRUSTED, True, who)
    else:
        root_signed = _KINDS[kind][2]
        what = "联盟根证书" if root_signed else "联盟列表指定的信任列表签名证书"
        what_en = "the federation root" if root_signed else \
            "a trust-list signer named by the federation list"
        report.add(TrustListCheck.SIGNER_TRUSTED, False, f"签名者不是{what}：{who} / signer is not {what_en}",
                   failure="NO_CERTIFICATE_CHAIN_FOUND", indeterminate=True)
    try:
        check_signature(opened)
    except InvalidSignature as exc:
        report.add(TrustListCheck.SIGNATURE, False, f"{exc.message_zh} / {exc.message_en}",
                   failure="SIG_CRYPTO_FAILURE")
        return result
    report.add(TrustListCheck.SIGNATURE, True, opened.alg)

    payload = opened.payload
    schemas, body_of, _root_signed = _KINDS[kind]
    accepted = schemas if isinstance(schemas, tuple) else (schemas,)  # the newest first
    if payload.get("schema") not in accepted:
        want = " / ".join(accepted)
        report.fail_format(TrustListCheck.SCHEMA, f"不是 {want}：{str(payload.get('schema'))[:40]!r} / "
                                     f"schema is not {want}")
        return result
    report.add(TrustListCheck.SCHEMA, True, payload["schema"])
    try:
        sequence, issued, next_update = _common(payload)
        entries = body_of(payload)
    except _Malformed as exc:
        report.fail_format(TrustListCheck.LIST_FORMAT, f"列表格式错误 / malformed list: {exc}")
        return result
    members = next((v for k in ("entries", "regions", "matters") if isinstance(v := payload.get(k), list)), [])
    report.add(TrustListCheck.LIST_FORMAT, True, f"{len(members)} 条目 / entries")
    result.sequence, result.issued_at, result.next_update = sequence, issued, next_update
    result.signer_der, result.entries = opened.cert_der, entries

    nb, na = opened.cert.not_valid_before, opened.cert.not_valid_after
    if issued < nb:
        report.add(TrustListCheck.SIGNER_VALIDITY, False, f"签发列表时签名证书尚未生效 / signer certificate not "
                   f"yet valid when the list was issued ({nb.isoformat()})", failure="NOT_YET_VALID")
    elif issued > na:
        report.add(TrustListCheck.SIGNER_VALIDITY, False, f"签发列表时签名证书已过期 / signer certificate expired "
                   f"when the list was issued ({na.isoformat()})", failure="EXPIRED")
    else:
        report.add(TrustListCheck.SIGNER_VALIDITY, True, f"{nb.date()} – {na.date()}")

    if kind == KIND_TRUST_LIST and region is not None:
        if payload["region"] == region:
            report.add(TrustListCheck.REGION, True, region)
        else:
            report.add(TrustListCheck.REGION, False, f"这是 {payload['region']} 的信任列表，而请求的是 {region} / "
                       f"list of region {payload['region']}, expected {region}",
                       failure="SIG_CONSTRAINTS_FAILURE")

    if known_sequence is not None:
        if sequence < known_sequence:
            report.add(TrustListCheck.SEQUENCE, False, f"序号 {sequence} 低于已持有的 {known_sequence}，疑为回滚 / "
                       f"sequence {sequence} is lower than {known_sequence} we hold: rollback",
                       failure="SIG_CONSTRAINTS_FAILURE")
        else:
            report.add(TrustListCheck.SEQUENCE, True, f"{sequence} ≥ {known_sequence}")

    if issued > at + skew:
        report.add(TrustListCheck.FRESHNESS, False, f"列表签发时间在未来 {issued.isoformat()} / list issued in "
                   "the future", failure="NOT_YET_VALID")
    elif at > next_update + grace:
        report.add(TrustListCheck.FRESHNESS, False, f"列表已于 {next_update.isoformat()} 过期且超过宽限期，请稍后"
                   f"重试 / list past next_update beyond the grace of {grace}: try later",
                   failure="TRY_LATER", indeterminate=True)
    elif at > next_update:
        report.add(TrustListCheck.FRESHNESS, True, f"已过 next_update {next_update.isoformat()}，仍在宽限期内 / "
                   "past next_update, within the grace")
        report.notes.append("列表待更新 / list due for refresh")
    else:
        report.add(TrustListCheck.FRESHNESS, True, f"有效至 / next update {next_update.isoformat()}")

    if trusted:
        result.payload = payload
    return result


def _ders(items: Iterable) -> set[bytes]:
    out = set()
    for c in items or ():
        if isinstance(c, x509.Certificate):
            out.add(c.dump())
        elif isinstance(c, str):
            out.add(base64.b64decode(c))
        else:
            out.add(bytes(c))
    return out


# -- shape ----------------------------------------------------------------------------------------

def _time(value, what: str) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z") or len(value) > 40:
        raise _Malformed(f"{what} is not an RFC 3339 UTC time ending in Z")
    try:
        t = datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise _Malformed(f"{what} is not an RFC 3339 UTC time") from None
    return t.astimezone(timezone.utc)


def _text(value, what: str, max_len: int = 200, *, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > max_len or (not value and not empty):
        raise _Malformed(f"{what} must be a string of at most {max_len} characters")
    return value


def _cert(value, what: str) -> tuple[bytes, str]:
    """(DER, key algorithm) of a base64 certificate."""
    _text(value, what, 24_000)
    try:
        der = base64.b64decode(value, validate=True)
        cert = x509.Certificate.load(der)
        cert.not_valid_before  # noqa: B018
        key = alg.load_public_key(cert.public_key)
    except (ValueError, binascii.Error):
        raise _Malformed(f"{what} is not base64") from None
    except Exception as exc:  # asn1crypto and the key loader raise many types
        raise _Malformed(f"{what} is not a usable certificate ({exc.__class__.__name__})") from None
    return der, key.algorithm


def _common(payload: dict) -> tuple[int, datetime, datetime]:
    seq = payload.get("sequence")
    if type(seq) is not int or not 0 <= seq <= MAX_SEQUENCE:
        raise _Malformed("sequence must be a non-negative integer")
    issued = _time(payload.get("issued_at"), "issued_at")
    next_update = _time(payload.get("next_update"), "next_update")
    if next_update <= issued:
        raise _Malformed("next_update must be after issued_at")
    return seq, issued, next_update


def _entry(e, where: str, roles: tuple[str, ...] = ENTRY_ROLES) -> Entry:
    if not isinstance(e, dict):
        raise _Malformed(f"{where} must be an object")
    role = e.get("role")
    if role not in roles:
        raise _Malformed(f"{where}.role must be one of {', '.join(roles)}")
    algorithm = e.get("algorithm")
    if algorithm not in registry.names():
        raise _Malformed(f"{where}.algorithm must be one of {', '.join(registry.names())}")
    der, key_alg = _cert(e.get("cert"), f"{where}.cert")
    if key_alg != algorithm:
        raise _Malformed(f"{where}.algorithm says {algorithm} but the certificate key is {key_alg}")
    status = e.get("status")
    if status not in ENTRY_STATUSES:
        raise _Malformed(f"{where}.status must be granted or withdrawn")
    return Entry(role, _text(e.get("org_name"), f"{where}.org_name", empty=True),
                 _text(e.get("org_code"), f"{where}.org_code", 64, empty=True), algorithm, der,
                 status, _time(e.get("since"), f"{where}.since"))


def _trust_list_body(payload: dict) -> list[Entry]:
    region = payload.get("region")
    if not isinstance(region, str) or not _REGION.match(region):
        raise _Malformed("region must be a short lowercase code")
    entries = payload.get("entries")
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise _Malformed(f"entries must be a list of at most {MAX_ENTRIES}")
    roles = ENTRY_ROLES_V1 if payload.get("schema") == TRUST_LIST_SCHEMA_V1 else ENTRY_ROLES
    parsed = [_entry(e, f"entries[{i}]", roles) for i, e in enumerate(entries)]
    types = payload.get("recognised_types")
    if not isinstance(types, list) or len(types) > 1000:
        raise _Malformed("recognised_types must be a list")
    for i, t in enumerate(types):
        _text(t, f"recognised_types[{i}]", 64)
    return parsed


def _lotl_body(payload: dict) -> list[Entry]:
    regions = payload.get("regions")
    if not isinstance(regions, list) or not 1 <= len(regions) <= MAX_REGIONS:
        raise _Malformed(f"regions must be a list of 1..{MAX_REGIONS}")
    seen = set()
    for i, r in enumerate(regions):
        where = f"regions[{i}]"
        if not isinstance(r, dict):
            raise _Malformed(f"{where} must be an object")
        code = r.get("region")
        if not isinstance(code, str) or not _REGION.match(code) or code in seen:
            raise _Malformed(f"{where}.region must be a unique short lowercase code")
        seen.add(code)
        _text(r.get("name"), f"{where}.name")
        url = _text(r.get("node_url"), f"{where}.node_url", 500)
        if not _URL.match(url):
            raise _Malformed(f"{where}.node_url must be an http(s) URL")
        signers = r.get("trust_list_signers")
        if not isinstance(signers, list) or not 1 <= len(signers) <= MAX_SIGNERS:
            raise _Malformed(f"{where}.trust_list_signers must list 1..{MAX_SIGNERS} certificates")
        for j, c in enumerate(signers):
            _cert(c, f"{where}.trust_list_signers[{j}]")
    return []


# Each kind of signed list: its schema, its body check (returning the trust-list entries, if
# any) and whether the federation root signs it.  Why a table: other root-signed lists
# (verification/scenarios.py, the scenario list) register here and so get exactly the same
# envelope, signer, signature, sequence and freshness checks instead of a copy of them.
_KINDS: dict[str, tuple[str, object, bool]] = {
    KIND_TRUST_LIST: ((TRUST_LIST_SCHEMA, TRUST_LIST_SCHEMA_V1), _trust_list_body, False),
    KIND_LOTL: (LOTL_SCHEMA, _lotl_body, True),
}


def register_kind(kind: str, schema: str | tuple[str, ...], body, *, root_signed: bool) -> None:
    """Add a list kind checked by `_verify` (`body(payload)` raises `Malformed` when the payload
    is not well formed)."""
    _KINDS[kind] = (schema, body, root_signed)


def verify_list(kind: str, envelope, signers: Iterable, at: datetime, *,
                known_sequence: int | None = None, grace: timedelta = DEFAULT_GRACE,
                skew: timedelta = DEFAULT_SKEW) -> ListResult:
    """Check a list of a registered `kind` (see `register_kind`)."""
    return _verify(kind, envelope, signers, at, None, known_sequence, grace, skew)


Malformed = _Malformed
check_text, check_time = _text, _time
