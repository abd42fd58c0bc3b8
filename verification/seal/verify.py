"""Verify electronic seals and signatures-with-seal, "as of" a given time.

The steps are those of GB/T 38540 / GM/T 0031-2025 (standards-notes §1.3), each one a named
check in the report so a clerk sees which one failed:

  seal.format               the seal parses (any version; leniencies listed in `notes`)
  seal.signature            the seal maker's signature over SES_SealInfo (v1: with cert and alg)
  seal.maker_certificate    the maker's certificate chains to a trusted seal-maker root, as of `at`
  seal.validity             validStart <= at <= validEnd
  seal.status               the seal registry has not revoked or suspended it (if one is given)
  signature.format          the SES_Signature parses
  signature.value           the signer's signature over TBS_Sign
  signature.signer_certificate   the signer's certificate chains to a trusted root, as of `at`
  signature.signer_in_seal  the signer's certificate (or its digest) is listed in the seal
  signature.time            the claimed signing time lies in the seal's and the certificate's validity
  signature.timestamp       the timestamp token, when there is one
  signature.data_hash       dataHash equals the hash of the document the caller holds

An untrusted chain is INDETERMINATE (NO_CERTIFICATE_CHAIN_FOUND): the cryptography may be intact
and the relying party simply does not know the maker.  A signature that does not verify is
TOTAL_FAILED (SIG_CRYPTO_FAILURE): that is a forgery or a corruption.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from asn1crypto import x509

from formats import algorithms as alg
from formats.algorithms import registry
from formats.certs import certificate_from_der
from formats.errors import SigningError
from verification import certpath
from verification.checks import SealCheck
from verification.report import Report, Signed
from formats.seal.parse import Seal, SealFormatError, SealSignature, parse_seal, parse_signature
from verification.seal.timestamp import check_timestamp

SIGNING_KEY_USAGE = frozenset({"digital_signature"})
# Extensions whose meaning we know; an unknown one marked critical must not be ignored.
KNOWN_EXTENSIONS: frozenset[str] = frozenset()


@dataclass
class SealTrust:
    """Trust material for seals.  Certificates may be asn1crypto objects or DER/PEM bytes.

    `seal_status(seal)` asks a seal registry about a seal: "active", "suspended", "revoked",
    "unknown" (the registry is responsible for this seal's maker but has no such seal), or None
    (the registry has nothing to say, e.g. another region's seal).  Without a registry, or on
    None, the check is skipped and a note says so."""

    seal_maker_roots: Iterable = ()
    signer_roots: Iterable = ()
    tsa_roots: Iterable = ()
    intermediates: Iterable = ()
    crls: Iterable = ()
    seal_status: Callable[[Seal], str | None] | None = None
    _stores: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        for name in ("seal_maker_roots", "signer_roots", "tsa_roots", "intermediates", "crls"):
            setattr(self, name, list(getattr(self, name)))

    def store_for(self, roots: list) -> certpath.TrustStore:
        """The parsed trust store (with its memory of valid paths) for `roots` — one of this
        trust's root lists — plus its intermediates and CRLs.  Kept per object identity of
        the material, re-checked on each call, so changing the lists in place is safe."""
        material = (*roots, None, *self.intermediates, None, *self.crls)
        key = tuple(map(id, material))
        held = self._stores.get(key)
        if held is not None and all(a is b for a, b in zip(held[0], material)):
            return held[1]
        if len(self._stores) >= 8:
            self._stores.clear()
        store = certpath.trust_store(roots, self.intermediates, self.crls)
        self._stores[key] = (material, store)
        return store


NO_TRUST = SealTrust()


def verify_seal(der: bytes, *, at: datetime, trust: SealTrust = NO_TRUST,
                extra_intermediates: Iterable = ()) -> Report:
    """Report on a SESeal (.esl) as of `at`.  `extra_intermediates`: certificates that may
    complete the maker's (or the seal timestamp's) path besides `trust.intermediates`, e.g.
    those a PDF signature carries."""
    report = Report(subject="seal")
    _require_aware(at)
    try:
        seal = parsed_seal(der)
    except SealFormatError as exc:
        return report.fail_format(SealCheck.SEAL_FORMAT, str(exc))
    _guarded(report, SealCheck.SEAL_INTERNAL, lambda: _check_seal(report, seal, at, trust,
                                                 list(extra_intermediates)))
    return report


def verify_signature(der: bytes, *, at: datetime, trust: SealTrust = NO_TRUST,
                     data: bytes | None = None, data_hash: bytes | None = None) -> Report:
    """Report on a SES_Signature (.dat) as of `at`; give the signed `data` (or its hash) to have
    dataHash compared — without it the result cannot be better than INDETERMINATE."""
    report = Report(subject="signature")
    _require_aware(at)
    try:
        sig = parse_signature(der)
    except SealFormatError as exc:
        return report.fail_format(SealCheck.SIGNATURE_FORMAT, str(exc))
    report.add(SealCheck.SIGNATURE_FORMAT, True, f"{_family_zh(sig.family)}电子签章数据 / "
               f"{sig.family} SES_Signature")
    _guarded(report, SealCheck.SIGNATURE_INTERNAL,
             lambda: _check_signature(report, sig, at, trust, data, data_hash))
    return report


# ---------------------------------------------------------------------------------------------
def _check_seal(report: Report, seal: Seal, at: datetime, trust: SealTrust,
                extras: list = ()) -> None:
    report.notes.extend(n for n in seal.notes if n not in report.notes)
    report.seal = seal_summary(seal)
    critical = [e.oid for e in seal.extensions if e.critical and e.oid not in KNOWN_EXTENSIONS]
    if critical:
        report.add(SealCheck.SEAL_FORMAT, False, f"印章含未知的关键扩展 / unknown critical extension(s): "
                   f"{', '.join(critical)}", failure="FORMAT_FAILURE")
    else:
        report.add(SealCheck.SEAL_FORMAT, True, f"{_family_zh(seal.family)}电子印章 / {seal.family} SESeal")
    if seal.family == "v5":
        report.notes.append("GM/T 0031-2025（v5）印章按 GB/T 38540 的规则验证 / "
                            "v5 seal verified with the GB/T 38540 rules")
    maker = _load_cert(report, SealCheck.SEAL_SIGNATURE, seal.maker_cert, "制章者证书", "maker certificate")
    if maker is not None:
        _check_crypto(report, SealCheck.SEAL_SIGNATURE, maker, seal.signature_algorithm, seal.signature,
                      seal.signed_bytes, "制章者签名", "seal maker's signature")
        path = trust.store_for(trust.seal_maker_roots).validate(
            maker, at=at, extra_intermediates=extras, key_usage=SIGNING_KEY_USAGE)
        path.add_to(report, SealCheck.SEAL_MAKER_CERTIFICATE)
    proven = None
    if seal.timestamp is not None:
        proven = _trusted_time(report, SealCheck.SEAL_TIMESTAMP, check_timestamp(
            report, SealCheck.SEAL_TIMESTAMP, seal.timestamp, seal.signature, at=at,
            store=trust.store_for(trust.tsa_roots), extra_intermediates=extras))
    if maker is not None:
        report.signatures.append(Signed("seal_maker", maker.dump(), claimed_at=seal.create_date,
                                        proven_before=proven,
                                        proof="印章时间戳 / seal timestamp" if proven else None))
    if at < seal.valid_start:
        report.add(SealCheck.SEAL_VALIDITY, False, f"印章尚未生效（{_day(seal.valid_start)} 起）/ the seal is "
                   f"not valid before {_day(seal.valid_start)}", failure="NOT_YET_VALID")
    elif at > seal.valid_end:
        report.add(SealCheck.SEAL_VALIDITY, False, f"印章已过期（{_day(seal.valid_end)} 止）/ the seal "
                   f"expired on {_day(seal.valid_end)}", failure="EXPIRED")
    else:
        report.add(SealCheck.SEAL_VALIDITY, True, f"有效期 {_day(seal.valid_start)} 至 {_day(seal.valid_end)}"
                   f" / valid {_day(seal.valid_start)} – {_day(seal.valid_end)}")
    _check_status(report, seal, trust)


def _check_status(report: Report, seal: Seal, trust: SealTrust) -> None:
    status = trust.seal_status(seal) if trust.seal_status is not None else None
    if status is None:
        report.notes.append("未查询印章登记状态 / seal registry not consulted")
        return
    if status == "revoked":
        report.add(SealCheck.SEAL_STATUS, False, "印章已注销 / the seal is revoked", failure="REVOKED")
    elif status == "suspended":
        report.add(SealCheck.SEAL_STATUS, False, "印章已暂停使用 / the seal is suspended",
                   failure="TRY_LATER", indeterminate=True)
    elif status == "active":
        report.add(SealCheck.SEAL_STATUS, True, "印章状态正常 / the seal is active")
    else:
        report.add(SealCheck.SEAL_STATUS, False, "印章登记中查无此章 / the seal registry does not know "
                   f"this seal ({status})", failure="GENERIC", indeterminate=True)


def _check_signature(report: Report, sig: SealSignature, at: datetime, trust: SealTrust,
                     data: bytes | None, data_hash: bytes | None) -> None:
    _check_seal(report, sig.seal, at, trust)
    report.notes.extend(n for n in sig.notes if n not in report.notes)
    signer = _load_cert(report, SealCheck.SIGNATURE_VALUE, sig.signer_cert, "签章者证书",
                        "signer certificate")
    if signer is None:
        return
    report.signer = cert_summary(signer)
    _check_crypto(report, SealCheck.SIGNATURE_VALUE, signer, sig.signature_algorithm, sig.signature,
                  sig.signed_bytes, "签章者签名", "signer's signature")
    trust.store_for(trust.signer_roots).validate(
        signer, at=at, key_usage=SIGNING_KEY_USAGE).add_to(report, SealCheck.SIGNATURE_SIGNER_CERTIFICATE)
    if sig.seal.lists_signer(sig.signer_cert):
        report.add(SealCheck.SIGNATURE_SIGNER_IN_SEAL, True, "签章者证书在印章的证书列表中 / the signer "
                   "is listed in the seal")
    else:
        report.add(SealCheck.SIGNATURE_SIGNER_IN_SEAL, False, "签章者证书不在印章的证书列表中 / the "
                   "signer is not listed in the seal", failure="SIG_CONSTRAINTS_FAILURE")
    _check_time(report, sig, signer, at)
    proven = None
    if sig.timestamp is not None:
        proven = _trusted_time(report, SealCheck.SIGNATURE_TIMESTAMP, check_timestamp(
            report, SealCheck.SIGNATURE_TIMESTAMP, sig.timestamp, sig.signature, at=at,
            store=trust.store_for(trust.tsa_roots)))
    report.signatures.append(Signed("licence_signer", signer.dump(), claimed_at=sig.time_info,
                                    proven_before=proven,
                                    proof="签章时间戳 / signature timestamp" if proven else None))
    if sig.timestamp is None:
        report.notes.append("签章数据不含时间戳，签章时间为签章者自述 / no timestamp: the signing "
                            "time is the signer's claim")
    _check_data_hash(report, sig, signer, data, data_hash)


def _trusted_time(report: Report, name: str, gen_time: datetime | None) -> datetime | None:
    """A timestamp's time counts as proof of existence only when its check passed (token,
    imprint, signature and the TSA's path to a trusted root)."""
    check = report.check(name)
    return gen_time if gen_time is not None and check is not None and check.passed else None


def _check_time(report: Report, sig: SealSignature, signer: x509.Certificate,
                at: datetime) -> None:
    t = sig.time_info
    if t is None:
        report.add(SealCheck.SIGNATURE_TIME, False, "无法读取签章时间 / the signing time cannot be read",
                   failure="GENERIC", indeterminate=True)
        return
    validity = signer["tbs_certificate"]["validity"].native
    problems = []
    if t > at:
        problems.append(("NOT_YET_VALID", f"签章时间晚于验证时间 / signed after {at:%Y-%m-%d %H:%M}"))
    if t < sig.seal.valid_start:
        problems.append(("NOT_YET_VALID", "签章时印章尚未生效 / the seal was not yet valid"))
    if t > sig.seal.valid_end:
        problems.append(("EXPIRED", "签章时印章已过期 / the seal had expired"))
    if t < validity["not_before"]:
        problems.append(("NOT_YET_VALID", "签章时签章者证书尚未生效 / the signer's certificate "
                         "was not yet valid"))
    if t > validity["not_after"]:
        problems.append(("EXPIRED", "签章时签章者证书已过期 / the signer's certificate had expired"))
    if problems:
        report.add(SealCheck.SIGNATURE_TIME, False, f"签章时间 {t:%Y-%m-%d %H:%M:%S}Z：" +
                   "；".join(p[1] for p in problems), failure=problems[0][0])
    else:
        report.add(SealCheck.SIGNATURE_TIME, True, f"签章时间 {t:%Y-%m-%d %H:%M:%S}Z / signed at "
                   f"{t:%Y-%m-%d %H:%M:%S}Z")


def _check_data_hash(report: Report, sig: SealSignature, signer: x509.Certificate,
                     data: bytes | None, data_hash: bytes | None) -> None:
    if data is None and data_hash is None:
        report.add(SealCheck.SIGNATURE_DATA_HASH, False, "未提供被签文件，无法核对摘要 / the signed document "
                   "was not supplied", failure="SIGNED_DATA_NOT_FOUND", indeterminate=True)
        return
    if data is not None:
        # dataHash is the signer algorithm's digest (GM/T 0031-2014 §5: SM3 for SM2, …)
        spec = registry.find_by_spki(signer.public_key)
        data_hash = spec.digest(data) if spec is not None else alg.sha256(data)
    if bytes(data_hash) == sig.data_hash:
        report.add(SealCheck.SIGNATURE_DATA_HASH, True, "文件摘要一致 / the document hash matches")
    else:
        report.add(SealCheck.SIGNATURE_DATA_HASH, False, "文件摘要不一致，文件已被改动 / the document hash "
                   "differs: the document was changed", failure="HASH_FAILURE")


# ---------------------------------------------------------------------------------------------
# Every licence of an organisation carries the same seal: its parse, its maker certificate and
# the maker's signature are remembered by content (SHA-256), successes only, so the checks and
# their results stay exactly those of a first verification.
_SEALS = certpath.Memo(64)
_CERTS = certpath.Memo(1024)
_VERIFIED = certpath.Memo(4096)


def parsed_seal(der: bytes) -> Seal:
    """`parse_seal`, remembered by content (Seal is frozen); raises SealFormatError likewise."""
    key = hashlib.sha256(bytes(der)).digest()
    seal = _SEALS.get(key)
    if seal is None:
        seal = parse_seal(der)
        _SEALS.put(key, seal)
    return seal


def _parsed_cert(der: bytes) -> x509.Certificate:
    key = hashlib.sha256(bytes(der)).digest()
    cert = _CERTS.get(key)
    if cert is None:
        cert = certificate_from_der(der)
        _CERTS.put(key, cert)
    return cert


def _load_cert(report: Report, name: str, der: bytes, zh: str, en: str):
    try:
        return _parsed_cert(der)
    except Exception:
        report.add(name, False, f"{zh}无法解析 / the {en} is not a valid certificate",
                   failure="FORMAT_FAILURE")
        return None


def _check_crypto(report: Report, name: str, cert: x509.Certificate, algorithm: str,
                  signature: bytes, message: bytes, zh: str, en: str) -> None:
    memo = (certpath.digest(cert), algorithm, bytes(signature), hashlib.sha256(message).digest())
    if _VERIFIED.get(memo):
        report.add(name, True, f"{zh}有效 / the {en} verifies")
        return
    try:
        key = alg.load_public_key(cert.public_key)
    except SigningError as exc:
        report.add(name, False, f"{zh}：公钥无法使用 / {en}: unusable public key ({exc.message_en})",
                   failure="FORMAT_FAILURE")
        return
    spec = registry.find_by_signature_oid(algorithm)
    if spec is None or spec.name != key.algorithm:
        report.add(name, False, f"{zh}：不支持的算法或与密钥不符 / {en}: algorithm {algorithm} "
                   f"unsupported or not matching the {key.algorithm} key",
                   failure="CRYPTO_CONSTRAINTS_FAILURE_NO_POE", indeterminate=True)
        return
    try:
        key.verify(signature, message)
    except alg.InvalidSignature:
        report.add(name, False, f"{zh}无效 / the {en} does not verify", failure="SIG_CRYPTO_FAILURE")
        return
    _VERIFIED.put(memo, True)
    report.add(name, True, f"{zh}有效 / the {en} verifies")


def _guarded(report: Report, check: SealCheck, fn) -> None:
    """A verifier never raises: anything unexpected is an INDETERMINATE check, not a crash."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - last line of defence, reported not hidden
        report.add(check, False, f"验证过程出错 / verification error: "
                   f"{exc.__class__.__name__}: {str(exc)[:200]}", failure="GENERIC",
                   indeterminate=True)


def _require_aware(at: datetime) -> None:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError("`at` must be a timezone-aware datetime")


def _day(t: datetime) -> str:
    return f"{t:%Y-%m-%d}"


def _family_zh(family: str) -> str:
    return {"v1": "GM/T 0031-2014（v1）", "v4": "GB/T 38540-2020（v4）",
            "v5": "GM/T 0031-2025（v5）"}[family]


def cert_summary(cert: x509.Certificate) -> dict:
    return {"subject": cert.subject.human_friendly, "issuer": cert.issuer.human_friendly,
            "serial": format(cert.serial_number, "x"),
            "not_before": cert["tbs_certificate"]["validity"]["not_before"].native.isoformat(),
            "not_after": cert["tbs_certificate"]["validity"]["not_after"].native.isoformat()}


def seal_summary(seal: Seal) -> dict:
    """What a person wants to see of a seal (no picture bytes, no certificates)."""
    out = {"es_id": seal.es_id, "name": seal.name, "type": seal.seal_type,
           "version": seal.version, "family": seal.family, "vendor": seal.vendor_id,
           "created": seal.create_date.isoformat(), "valid_start": seal.valid_start.isoformat(),
           "valid_end": seal.valid_end.isoformat(), "picture_type": seal.picture_type,
           "picture_mm": [seal.width_mm, seal.height_mm],
           "signers": len(seal.certs) or len(seal.cert_digests),
           "cert_list_type": seal.cert_list_type}
    try:
        out["maker"] = _maker_name(seal.maker_cert)
    except Exception:  # noqa: BLE001 - the summary must not fail where the checks report it
        out["maker"] = None
    return out


def _maker_name(der: bytes) -> str:
    try:
        return _parsed_cert(der).subject.human_friendly
    except Exception:  # not strictly DER: the lenient reading the summary always used
        return x509.Certificate.load(der).subject.human_friendly
