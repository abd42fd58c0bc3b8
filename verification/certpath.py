"""Certificate path validation (RFC 5280) for SM2 and RSA chains, via pyhanko-certvalidator.

pyhanko-certvalidator knows nothing of SM2: its DefaultSignatureValidator loads every public key
with pyca/cryptography first, which rejects the SM2 curve with an exception (not "invalid").
`SM2SignatureValidator` plugs in at the supported point (ValidationContext(signature_validator=))
and verifies SM2-with-SM3 through the algorithm layer; everything else goes to the default.
The same validator object checks certificate, CRL, OCSP, timestamp and CMS signatures, so
pyHanko's PDF validation reuses it through `make_validation_context`.

We never use `openssl verify` for SM2 chains: OpenSSL 3.x applies the SM2 distinguishing ID
only to the target certificate, so three-level GM chains fail there (tests/interop documents it).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from asn1crypto import algos, crl as asn1_crl, keys, x509
from cryptography.exceptions import InvalidSignature as PycaInvalidSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError, ExpiredError, InsufficientRevinfoError, InvalidCertificateError,
    NotYetValidError, PathBuildingError, PathValidationError, RevokedError, StaleRevinfoError,
)
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT, DefaultSignatureValidator, SignatureValidationContext,
)

from signing import algorithms as alg
from signing import oids
from verification.report import FAILED_SUBINDICATIONS, INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, Report


class SM2SignatureValidator(DefaultSignatureValidator):
    """SM2-with-SM3 (1.2.156.10197.1.501, and 1.2.156.10197.1.301.1 as GM/T 0010 writers use)
    with the default user ID; other algorithms go to pyhanko's default validator.

    Contract (pyhanko): return None when valid, raise cryptography's InvalidSignature otherwise.
    An SM2 signature cannot be checked over a bare digest — the Z value is hashed in with the
    message — so a prehashed context is treated as invalid rather than guessed at.
    """

    def validate_signature(self, signature: bytes, signed_data: bytes,
                           public_key_info: keys.PublicKeyInfo,
                           signature_algorithm: algos.SignedDigestAlgorithm,
                           context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT):
        oid = signature_algorithm["algorithm"].dotted
        if oid not in oids.SM2_SIGNATURE_OIDS:
            if _is_sm2_key(public_key_info):
                raise PycaInvalidSignature(f"SM2 key used with signature algorithm {oid}")
            return super().validate_signature(signature, signed_data, public_key_info,
                                              signature_algorithm, context)
        if context.prehashed:
            raise PycaInvalidSignature("SM2 signatures need the message, not a digest (Z value)")
        if not _is_sm2_key(public_key_info):
            raise PycaInvalidSignature("SM2 signature algorithm with a non-SM2 public key")
        try:
            key = alg.load_public_key(public_key_info)
            key.verify(bytes(signature), bytes(signed_data))
        except alg.InvalidSignature as exc:
            raise PycaInvalidSignature(str(exc)) from None
        except Exception as exc:  # malformed key point etc.: still "does not verify"
            raise PycaInvalidSignature(f"{exc.__class__.__name__}: {exc}") from None


def _is_sm2_key(info: keys.PublicKeyInfo) -> bool:
    try:
        if info["algorithm"]["algorithm"].native != "ec":
            return False
        params = info["algorithm"]["parameters"]
        return params.name == "named" and params.chosen.dotted == oids.SM2_CURVE
    except Exception:
        return False


SIGNATURE_VALIDATOR = SM2SignatureValidator()


def make_validation_context(*, trust_roots: Iterable[x509.Certificate], at: datetime,
                            intermediates: Iterable[x509.Certificate] = (),
                            crls: Iterable[asn1_crl.CertificateList] = (),
                            revocation_mode: str | None = None) -> ValidationContext:
    """A pyhanko ValidationContext that verifies SM2, never fetches, and judges "as of" `at`.

    With CRLs supplied, revocation is hard-fail: a certificate that names a CRL distribution
    point must be covered by a fresh CRL.  Without CRLs (offline QR checks, say) it is
    soft-fail: revocation is then the caller's business (status lists, trust lists).
    """
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    crls = list(crls)
    return ValidationContext(
        trust_roots=list(trust_roots), other_certs=list(intermediates), crls=crls,
        moment=at, allow_fetching=False,
        revocation_mode=revocation_mode or ("hard-fail" if crls else "soft-fail"),
        signature_validator=SIGNATURE_VALIDATOR)


@dataclass
class PathResult:
    """Outcome of one path validation.  `reason_code` is an ETSI EN 319 102-1 sub-indication
    (None when ok); `detail_zh_en` is "中文 / English" for people; `path` runs root → leaf."""

    ok: bool
    reason_code: str | None
    detail_zh_en: str
    path: list[x509.Certificate] = field(default_factory=list)

    @property
    def indication(self) -> str:
        if self.ok:
            return TOTAL_PASSED
        return TOTAL_FAILED if self.reason_code in FAILED_SUBINDICATIONS else INDETERMINATE

    def add_to(self, report: Report, name: str = "certificate_path") -> bool:
        """Record this result as one named check of a verification report."""
        return report.add(name, self.ok, self.detail_zh_en, failure=self.reason_code,
                          indeterminate=self.indication == INDETERMINATE)


_MESSAGES = {
    "NO_CERTIFICATE_CHAIN_FOUND": ("未找到通往可信根证书的证书链", "no chain to a trusted root"),
    "EXPIRED": ("证书已过期", "a certificate in the path has expired"),
    "NOT_YET_VALID": ("证书尚未生效", "a certificate in the path is not yet valid"),
    "REVOKED": ("证书已被撤销", "a certificate in the path is revoked"),
    "SIG_CRYPTO_FAILURE": ("证书签名验证失败", "a certificate signature does not verify"),
    "CHAIN_CONSTRAINTS_FAILURE": ("证书链不满足约束（用途、CA 约束等）",
                                  "the path violates a constraint (key usage, CA constraints…)"),
    "TRY_LATER": ("缺少有效的撤销信息", "no usable revocation information"),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": ("证书使用了不被允许的算法", "disallowed algorithm"),
    "FORMAT_FAILURE": ("证书格式错误", "malformed certificate"),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": ("证书链验证出错", "path validation error"),
}


def _fail(code: str, detail: str = "") -> PathResult:
    zh, en = _MESSAGES[code]
    return PathResult(False, code, f"{zh} / {en}" + (f": {detail}" if detail else ""))


def _as_cert(value) -> x509.Certificate:
    if isinstance(value, x509.Certificate):
        cert = value
    else:
        from asn1crypto import pem

        data = bytes(value)
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        cert = x509.Certificate.load(data, strict=True)
    cert.native  # parse every field now, not deep inside the validator
    return cert


def _as_crl(value) -> asn1_crl.CertificateList:
    if isinstance(value, asn1_crl.CertificateList):
        obj = value
    else:
        from asn1crypto import pem

        data = bytes(value)
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        obj = asn1_crl.CertificateList.load(data, strict=True)
    obj.native
    return obj


def _classify(exc: Exception) -> str:
    if isinstance(exc, RevokedError):
        return "REVOKED"
    if isinstance(exc, ExpiredError):
        return "EXPIRED"
    if isinstance(exc, NotYetValidError):
        return "NOT_YET_VALID"
    if isinstance(exc, PathBuildingError):
        return "NO_CERTIFICATE_CHAIN_FOUND"
    if isinstance(exc, DisallowedAlgorithmError):
        return "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    if isinstance(exc, (InsufficientRevinfoError, StaleRevinfoError)):
        return "TRY_LATER"
    if isinstance(exc, InvalidCertificateError):
        return "CHAIN_CONSTRAINTS_FAILURE"
    if isinstance(exc, PathValidationError):
        if "signature" in str(exc) and "could not be verified" in str(exc):
            return "SIG_CRYPTO_FAILURE"
        return "CHAIN_CONSTRAINTS_FAILURE"
    return "CERTIFICATE_CHAIN_GENERAL_FAILURE"


async def async_validate_path(cert, *, trust_roots, intermediates=(), at: datetime, crls=(),
                              key_usage: Iterable[str] = (),
                              extended_key_usage: Iterable[str] | None = None,
                              allow_ca_leaf: bool = False) -> PathResult:
    """`validate_path` for callers already inside an event loop."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    try:
        leaf = _as_cert(cert)
        roots = [_as_cert(c) for c in trust_roots]
        others = [_as_cert(c) for c in intermediates]
        crl_list = [_as_crl(c) for c in crls]
    except Exception as exc:
        return _fail("FORMAT_FAILURE", f"{exc.__class__.__name__}: {str(exc)[:200]}")
    if leaf.ca and not allow_ca_leaf:
        return _fail("CHAIN_CONSTRAINTS_FAILURE",
                     "CA 证书不能用作终端实体证书 / a CA certificate cannot be used as a leaf")
    # The leaf's own window first: past its end, stale CRLs would otherwise mask "expired".
    if at > leaf.not_valid_after:
        return _fail("EXPIRED", f"notAfter {leaf.not_valid_after.isoformat()}")
    if at < leaf.not_valid_before:
        return _fail("NOT_YET_VALID", f"notBefore {leaf.not_valid_before.isoformat()}")
    try:
        context = make_validation_context(trust_roots=roots, intermediates=others, at=at,
                                          crls=crl_list)
        validator = CertificateValidator(leaf, validation_context=context)
        path = await validator.async_validate_usage(
            set(key_usage), set(extended_key_usage) if extended_key_usage else None)
    except Exception as exc:  # certvalidator signals every outcome by an exception
        return _fail(_classify(exc), str(exc)[:500])
    return PathResult(True, None, "证书链有效 / certificate path is valid",
                      [p for p in path.iter_certs(include_root=True)])


def validate_path(cert, *, trust_roots, intermediates=(), at: datetime, crls=(),
                  key_usage: Iterable[str] = (), extended_key_usage: Iterable[str] | None = None,
                  allow_ca_leaf: bool = False) -> PathResult:
    """Validate `cert` (asn1crypto Certificate, DER or PEM) to one of `trust_roots` as of `at`.

    `key_usage`: required keyUsage names (e.g. {"digital_signature"}); `extended_key_usage`:
    required EKU names/OIDs (e.g. {"time_stamping"}).  Never raises for bad input: malformed
    certificates give FORMAT_FAILURE.
    """
    coro = async_validate_path(cert, trust_roots=trust_roots, intermediates=intermediates, at=at,
                               crls=crls, key_usage=key_usage,
                               extended_key_usage=extended_key_usage, allow_ca_leaf=allow_ca_leaf)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside a running loop (e.g. a sync helper in an async route): run apart.
    box: list = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return box[0]
