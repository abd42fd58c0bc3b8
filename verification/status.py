"""Licence status as a verifier sees it: signed status responses and signed bitstring status
lists from the issuing region (docs/federation.md), checked and cached with a freshness limit.

Why a cache with a limit: a relying department verifies many licences of the same issuer, so it
fetches that issuer's list once and answers from it until the list's `next_update`; after that a
revocation published by the issuer is visible on the next refresh, never later.  When the issuer
cannot be reached the last good answer stays usable for a configured grace beyond `next_update`,
then the honest answer is INDETERMINATE / TRY_LATER — never "active" from a stale list.

Every answer is signed by the region's `status_signer` in the `{"payload", "signature": {"alg",
"cert", "value"}}` envelope over the canonical JSON of the payload; the certificate must be one
of the status signers the trust material names for that region.  The canonical JSON rule is
repeated here (UTF-8, sorted keys, no whitespace, no floats) because `verification` may not
import the service (docs/architecture.md).

Pure functions (`verify_status_list`, `verify_status_response`, `add_status_check`) plus one
small `StatusCache` with an injected clock and injected fetch functions.
"""

from __future__ import annotations

import base64
import binascii
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from asn1crypto import x509

from formats import algorithms as alg
from formats.errors import FormatError, InvalidSignature
from formats.algorithms import registry
from formats.canonical_json import CanonicalJSONError, canonical_json
from verification.checks import CheckName
from verification.report import Report

LIST_SCHEMA = "yrd-status-list/1"
RESPONSE_SCHEMA = "yrd-licence-status/1"
MIN_ENTRIES = 131_072
STATUS_SIZE = 2
CODES = {0: "active", 1: "suspended", 2: "revoked", 3: "superseded"}
STATUSES = ("active", "suspended", "revoked", "superseded", "expired")
DEFAULT_GRACE = timedelta(hours=1)
# The longest validity (next_update - produced_at) a verifier believes: twice what our nodes
# sign (a response 1 h, a list 6 h; license_svc.licences.status).  A status "valid for years"
# would otherwise be cached and replayed as "active" long after a revocation (issue 14 item 8).
MAX_RESPONSE_LIFETIME = timedelta(hours=2)
MAX_LIST_LIFETIME = timedelta(hours=12)
DEFAULT_SKEW = timedelta(minutes=5)
MAX_DECODED_BYTES = 16 * 1024 * 1024
MAX_CACHED = 10_000
TRY_LATER, GENERIC = "TRY_LATER", "GENERIC"


class StatusError(FormatError):
    """The status could not be established.  `sub_indication` is TRY_LATER (stale or
    unreachable: ask again later) or GENERIC (an answer we must not believe)."""

    code = "licence-status"

    def __init__(self, message_en: str, message_zh: str, sub_indication: str = GENERIC):
        super().__init__(message_en, message_zh)
        self.sub_indication = sub_indication


# -- trust ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Signer:
    region: str
    cert: x509.Certificate
    public_key: object


class StatusTrust:
    """Status-signer certificates per region (trust list entries with role status_signer)."""

    def __init__(self, signers: Mapping[str, Iterable[bytes]] | None = None):
        self._by_der: dict[bytes, _Signer] = {}
        for region, ders in (signers or {}).items():
            for der in ders:
                self.add(region, der)

    def add(self, region: str, cert_der: bytes) -> None:
        cert_der = bytes(cert_der)
        try:
            cert = x509.Certificate.load(cert_der)
            key = alg.load_public_key(cert.public_key)
            cert.not_valid_before  # noqa: B018  (parse now, not while verifying)
        except Exception as exc:  # asn1crypto and the key loader raise many types
            raise ValueError(f"unusable status signer certificate for {region}: "
                             f"{exc.__class__.__name__}") from None
        self._by_der[cert_der] = _Signer(region, cert, key)

    def lookup(self, cert_der: bytes) -> _Signer | None:
        return self._by_der.get(cert_der)

    def __len__(self) -> int:
        return len(self._by_der)

    @classmethod
    def from_trust_lists(cls, payloads: Iterable[Mapping]) -> "StatusTrust":
        """From verified region trust list payloads: granted status_signer entries."""
        trust = cls()
        for payload in payloads:
            for e in payload.get("entries", []):
                if e.get("role") == "status_signer" and e.get("status", "granted") == "granted":
                    trust.add(payload["region"], base64.b64decode(e["cert"]))
        return trust


# -- verified answers ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusList:
    region: str
    issuer: str
    list_id: str
    entries: int
    bits: bytes
    statuses: Mapping[int, str]
    produced_at: datetime
    next_update: datetime

    def status(self, index: int) -> str:
        if not isinstance(index, int) or not 0 <= index < self.entries:
            raise StatusError(f"status index {index} outside the list", "状态索引超出列表范围")
        byte, shift = divmod(index * STATUS_SIZE, 8)
        value = (self.bits[byte] >> (8 - STATUS_SIZE - shift)) & 0b11
        return self.statuses[value]


@dataclass(frozen=True)
class StatusResponse:
    region: str
    identifier: str
    version: int
    status: str
    reason: str | None
    superseded_by: str | None
    list_id: str | None
    index: int | None
    produced_at: datetime
    next_update: datetime
    register: dict | None = None  # the issuing register's facts (formats.qr_claims.register_facts)
    since: str | None = None      # when the status took effect, as the issuer signed it


def _register_facts(value) -> dict | None:
    """Only well-formed facts pass on: a time and lowercase hex digests."""
    if not isinstance(value, dict):
        return None
    out = {}
    if isinstance(value.get("issued_at"), str):
        try:
            _time(value["issued_at"], "register.issued_at")
            out["issued_at"] = value["issued_at"]
        except StatusError:
            pass
    for key in ("data_hash", "qr_claims_sha256"):
        v = value.get(key)
        if isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v):
            out[key] = v
    return out or None


def _bad(en: str, zh: str, sub: str = GENERIC) -> StatusError:
    return StatusError(en, zh, sub)


def _time(value, what: str) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise _bad(f"{what} is not an RFC 3339 UTC time", f"{what} 不是 UTC 时间")
    try:
        t = datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise _bad(f"{what} is not an RFC 3339 UTC time", f"{what} 不是 UTC 时间") from None
    return t.astimezone(timezone.utc)


def verify_envelope(envelope, trust: StatusTrust, at: datetime, *,
                    skew: timedelta = DEFAULT_SKEW,
                    max_lifetime: timedelta = MAX_LIST_LIFETIME) -> tuple[dict, _Signer, datetime, datetime]:
    """(payload, signer, produced_at, next_update) of a status envelope signed by a trusted
    status signer whose certificate was valid when it was produced, valid for at most
    `max_lifetime`; StatusError otherwise."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    try:
        payload, sig = envelope["payload"], envelope["signature"]
        cert_der = base64.b64decode(sig["cert"], validate=True)
        value = base64.b64decode(sig["value"], validate=True)
        name = sig["alg"]
        if not isinstance(payload, dict):
            raise TypeError("payload is not an object")
        message = canonical_json(payload)
    except (KeyError, TypeError, ValueError, binascii.Error, CanonicalJSONError) as exc:
        raise _bad(f"malformed status envelope: {exc.__class__.__name__}",
                   "状态信息的签名封装格式错误") from None
    signer = trust.lookup(cert_der)
    if signer is None:
        raise _bad("status signed by a certificate that is not a trusted status signer",
                   "状态信息的签名证书不是受信任的状态签名证书")
    spec = registry.find_by_envelope_alg(name)
    if spec is None or spec.name != signer.public_key.algorithm:
        raise _bad(f"envelope alg {name!r} does not match the key", "签名算法与证书公钥不一致")
    try:
        signer.public_key.verify(value, message)
    except InvalidSignature:
        raise _bad("status signature does not verify", "状态信息签名验证失败") from None
    produced = _time(payload.get("produced_at"), "produced_at")
    next_update = _time(payload.get("next_update"), "next_update")
    if next_update <= produced:
        raise _bad("next_update is not after produced_at", "next_update 早于 produced_at")
    if next_update - produced > max_lifetime:
        raise _bad(f"status valid for {next_update - produced}, longer than the maximum "
                   f"{max_lifetime}: not believed", f"状态信息有效期（{next_update - produced}）超过上限 "
                   f"{max_lifetime}，不予采信")
    if produced > at + skew:
        raise _bad("status produced in the future", "状态信息的生成时间晚于当前时间")
    if not signer.cert.not_valid_before <= produced <= signer.cert.not_valid_after:
        raise _bad("status signer certificate not valid when the status was produced",
                   "状态签名证书在生成状态信息时不在有效期内")
    return payload, signer, produced, next_update


def verify_status_list(envelope, trust: StatusTrust, at: datetime) -> StatusList:
    payload, signer, produced, next_update = verify_envelope(envelope, trust, at,
                                                             max_lifetime=MAX_LIST_LIFETIME)
    if payload.get("schema") != LIST_SCHEMA:
        raise _bad("not a status list", "不是状态列表")
    if payload.get("region") != signer.region:
        raise _bad(f"list of region {payload.get('region')!r} signed by the {signer.region} "
                   "status signer", "状态列表的地区与签名者不符")
    entries = payload.get("entries")
    if type(entries) is not int or entries < MIN_ENTRIES or entries % 4 \
            or payload.get("status_size") != STATUS_SIZE or payload.get("encoding") != "gzip+base64":
        raise _bad("status list needs >= 131072 two-bit entries, gzip+base64",
                   "状态列表须有至少 131072 个 2 位条目，gzip+base64 编码")
    table = payload.get("statuses")
    try:
        statuses = {int(k): v for k, v in table.items()}
    except (AttributeError, TypeError, ValueError):
        raise _bad("malformed status table", "状态码表格式错误") from None
    if set(statuses) != set(CODES) or not set(statuses.values()) <= set(STATUSES):
        raise _bad("unknown status codes in the list", "状态列表含未知状态码")
    for key in ("issuer", "list"):
        if not isinstance(payload.get(key), str):
            raise _bad(f"status list has no {key}", f"状态列表缺少 {key}")
    try:
        raw = base64.b64decode(payload.get("encoded_list"), validate=True)
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        bits = d.decompress(raw, MAX_DECODED_BYTES)
        if d.unconsumed_tail or not d.eof:
            raise ValueError("truncated or too large")
    except (TypeError, ValueError, binascii.Error, zlib.error):
        raise _bad("malformed encoded status list", "状态列表编码格式错误") from None
    if len(bits) != entries * STATUS_SIZE // 8:
        raise _bad("status list length does not match its entry count", "状态列表长度与条目数不符")
    return StatusList(signer.region, payload["issuer"], payload["list"], entries, bits, statuses,
                      produced, next_update)


def verify_status_response(envelope, trust: StatusTrust, at: datetime) -> StatusResponse:
    payload, signer, produced, next_update = verify_envelope(envelope, trust, at,
                                                             max_lifetime=MAX_RESPONSE_LIFETIME)
    if payload.get("schema") != RESPONSE_SCHEMA:
        raise _bad("not a licence status response", "不是证照状态响应")
    ident, status, version = payload.get("identifier"), payload.get("status"), payload.get("version")
    if not isinstance(ident, str) or status not in STATUSES or type(version) is not int:
        raise _bad("status response needs identifier, version and a known status",
                   "状态响应缺少证照标识、版本或已知状态")
    slot = payload.get("status_list") or {}
    list_id, index = (slot.get("list"), slot.get("index")) if isinstance(slot, dict) else (None, None)
    if not isinstance(list_id, str) or type(index) is not int:
        list_id = index = None
    reason, newer = payload.get("reason"), payload.get("superseded_by")
    return StatusResponse(signer.region, ident, version, status,
                          reason if isinstance(reason, str) else None,
                          newer if isinstance(newer, str) else None, list_id, index,
                          produced, next_update, _register_facts(payload.get("register")),
                          payload["since"] if isinstance(payload.get("since"), str) else None)


# -- the cache ---------------------------------------------------------------------------------

FetchList = Callable[[str, str], Mapping]       # (region, list id) -> envelope
FetchResponse = Callable[[str, str], Mapping]   # (region, identifier) -> envelope


class StatusCache:
    """Verified status lists and responses, refreshed when past `next_update`.

    `lookup(identifier, region)` answers from the issuer's status list when the licence's slot
    is known (learnt from an earlier signed response), else from a signed response.  A failed
    refresh falls back to the last good answer until `next_update + grace`, then raises
    StatusError(TRY_LATER).  A refresh older than what we hold (a replayed old list) is ignored."""

    def __init__(self, trust: StatusTrust, *, clock: Callable[[], datetime],
                 fetch_list: FetchList | None = None, fetch_response: FetchResponse | None = None,
                 grace: timedelta = DEFAULT_GRACE, max_entries: int = MAX_CACHED):
        self.trust, self.clock, self.grace = trust, clock, grace
        self.fetch_list, self.fetch_response = fetch_list, fetch_response
        self.max_entries = max_entries
        self._lists: OrderedDict[tuple[str, str], StatusList] = OrderedDict()
        self._responses: OrderedDict[tuple[str, str], StatusResponse] = OrderedDict()
        self._slots: dict[str, tuple[str, int]] = {}
        # The register facts a licence's first signed response carried (they never change
        # for an identifier); later answers come from status lists, which do not carry them.
        self._registers: dict[str, dict] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # how many times the issuer was asked (tests and metrics)

    def lookup(self, identifier: str, region: str) -> dict:
        """{"status", "source", "produced_at", "next_update", "reason"?, "superseded_by"?}."""
        at = self.clock()
        slot = self._slots.get(identifier)
        if slot is not None and self.fetch_list is not None:
            lst = self._get(self._lists, (region, slot[0]), at, lambda: verify_status_list(
                self.fetch_list(region, slot[0]), self.trust, at))
            if lst.region != region or lst.list_id != slot[0]:
                raise _bad("the issuer answered with another status list", "签发方返回了其他状态列表")
            out = {"status": lst.status(slot[1]), "source": f"status list {lst.list_id}",
                   "produced_at": lst.produced_at.isoformat(),
                   "next_update": lst.next_update.isoformat()}
            if identifier in self._registers:
                out["register"] = self._registers[identifier]
            return out
        if self.fetch_response is None:
            raise StatusError("no status source for this licence", "没有可查询该证照状态的来源",
                              TRY_LATER)
        resp = self._get(self._responses, (region, identifier), at, lambda: verify_status_response(
            self.fetch_response(region, identifier), self.trust, at))
        if resp.identifier != identifier or resp.region != region:
            raise _bad("the status response is about another licence or region",
                       "状态响应不属于该证照或地区")
        if resp.list_id is not None:
            self._slots[identifier] = (resp.list_id, resp.index)
        if resp.register is not None:
            if len(self._registers) >= self.max_entries:
                self._registers.clear()
            self._registers[identifier] = resp.register
        out = {"status": resp.status, "source": "signed status response",
               "produced_at": resp.produced_at.isoformat(),
               "next_update": resp.next_update.isoformat()}
        if resp.reason:
            out["reason"] = resp.reason
        if resp.superseded_by:
            out["superseded_by"] = resp.superseded_by
        if resp.since:
            out["since"] = resp.since
        if resp.register is not None:
            out["register"] = resp.register
        return out

    def _get(self, store: OrderedDict, key, at: datetime, fetch_and_verify):
        with self._lock:
            cached = store.get(key)
        if cached is not None and at <= cached.next_update:
            return cached
        try:
            self.fetches += 1
            fresh = fetch_and_verify()
        except Exception as exc:  # unreachable issuer, bad signature, garbage: keep the last good
            if cached is not None and at <= cached.next_update + self.grace:
                return cached
            if isinstance(exc, StatusError) and exc.sub_indication == GENERIC:
                raise
            raise StatusError(f"status unavailable: {exc.__class__.__name__}",
                              "暂时无法取得证照状态，请稍后重试", TRY_LATER) from None
        if cached is not None and fresh.produced_at < cached.produced_at:
            fresh = cached  # rollback to an older answer: keep the newer one we have
        if at > fresh.next_update + self.grace:
            raise StatusError("the newest status available is stale", "可取得的证照状态已过期，请稍后重试",
                              TRY_LATER)
        with self._lock:
            store[key] = fresh
            store.move_to_end(key)
            while len(store) > self.max_entries:
                store.popitem(last=False)
        return fresh


# -- reporting -----------------------------------------------------------------------------------

def add_status_check(report: Report, name: CheckName, identifier: str | None,
                     lookup: Callable[[str], Mapping | str] | None) -> None:
    """One named check for the licence's status, in the PDF verifier's vocabulary: revoked and
    expired fail, suspended is INDETERMINATE (a suspension may be lifted), superseded passes with
    a note (the signature is still genuine), an unreachable source is TRY_LATER."""
    if lookup is None:
        report.notes.append("未查询证照状态 / licence status not checked (no status source)")
        return
    if not identifier:
        report.add(name, False, "没有证照标识，无法查询状态 / no licence identifier, status unknown",
                   failure=GENERIC, indeterminate=True)
        return
    try:
        answer = lookup(identifier)
    except StatusError as exc:
        report.add(name, False, f"{exc.message_zh} / {exc.message_en}",
                   failure=exc.sub_indication, indeterminate=True)
        return
    except Exception as exc:
        report.add(name, False, f"证照状态查询失败 / status lookup failed: {type(exc).__name__}",
                   failure=TRY_LATER, indeterminate=True)
        return
    info = dict(answer) if isinstance(answer, Mapping) else {"status": answer}
    status = str(info.get("status") or "unknown").lower()
    source = f"（{info['source']}）" if info.get("source") else ""
    report.licence["status"] = status
    if info.get("superseded_by"):
        report.licence["superseded_by"] = info["superseded_by"]
    reason = f"：{info['reason']}" if info.get("reason") else ""
    if status == "active":
        report.add(name, True, f"证照状态：有效{source} / licence status: active")
    elif status == "superseded":
        newer = info.get("superseded_by") or "?"
        report.add(name, True, f"此版本已被新版本 {newer} 取代（签名仍有效）{source} / superseded by "
                   f"{newer}")
        report.notes.append(f"已被新版本取代 / superseded by {newer}")
    elif status == "revoked":
        report.add(name, False, f"证照已撤销{reason}{source} / licence revoked", failure="REVOKED")
    elif status == "suspended":
        report.add(name, False, f"证照已暂停{reason}{source} / licence suspended",
                   failure=TRY_LATER, indeterminate=True)
    elif status == "expired":
        report.add(name, False, f"证照已过有效期{source} / licence expired", failure="EXPIRED")
    else:
        report.add(name, False, "证照状态未知 / licence status unknown", failure=GENERIC,
                   indeterminate=True)
