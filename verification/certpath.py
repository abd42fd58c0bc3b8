"""Certificate path validation (RFC 5280) for SM2 and RSA chains, via pyhanko-certvalidator.

pyhanko-certvalidator knows nothing of SM2: its DefaultSignatureValidator loads every public key
with pyca/cryptography first, which rejects the SM2 curve with an exception (not "invalid").
`SM2SignatureValidator` plugs in at the supported point (ValidationContext(signature_validator=))
and verifies SM2-with-SM3 through the algorithm layer; everything else goes to the default.
The same validator object checks certificate, CRL, OCSP, timestamp and CMS signatures, so
pyHanko's PDF validation reuses it through `make_validation_context`.

We never use `openssl verify` for SM2 chains: OpenSSL 3.x applies the SM2 distinguishing ID
only to the target certificate, so three-level GM chains fail there (tests/interop documents it).

Speed (docs/performance.md "PDF signing and verification"): a `TrustStore` parses its roots,
intermediates and CRLs once and remembers the paths it found valid.  A remembered success is
reused only for an `at` in the same *time bucket*: between the same two consecutive "critical
times" of the material (every certificate's notBefore/notAfter, every CRL's thisUpdate/
nextUpdate, every revocation date), and never within a few seconds of one.  pyhanko-certvalidator
consults `at` only by comparing it with those times (±1 s tolerance), so inside a bucket its
answer cannot change: a later expiry, a CRL that starts to revoke or goes stale, always falls
on a bucket boundary.  Failures are never remembered (their messages may name `at`).
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import hashlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from asn1crypto import algos, crl as asn1_crl, keys, x509
from cryptography.exceptions import InvalidSignature as PycaInvalidSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError, ExpiredError, InsufficientRevinfoError, InvalidCertificateError,
    NotYetValidError, PathBuildingError, PathValidationError, RevokedError, StaleRevinfoError,
)
from pyhanko_certvalidator.policy_decl import FRESHNESS_FALLBACK_VALIDITY_DEFAULT
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT, DefaultSignatureValidator, SignatureValidationContext,
)

from formats import algorithms as alg, certs
from formats.algorithms import registry
from verification.algorithm_policy import DATED_POLICY
from verification.report import FAILED_SUBINDICATIONS, INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, Report


class SM2SignatureValidator(DefaultSignatureValidator):
    """Signatures of the registered algorithms pyca cannot verify (SM2-with-SM3, under
    1.2.156.10197.1.501 and the 1.2.156.10197.1.301.1 GM/T 0010 writers use, with the default
    user ID) go through the algorithm layer; the others to pyhanko's default validator.

    Contract (pyhanko): return None when valid, raise cryptography's InvalidSignature otherwise.
    An SM2 signature cannot be checked over a bare digest — the Z value is hashed in with the
    message — so a prehashed context is treated as invalid rather than guessed at.

    Signatures that verified are remembered (signature, SHA-256 of the signed bytes, key,
    algorithm, context): the same certificate and CRL signatures come back on every document
    of an issuer.  Only successes are remembered; a collision would need one in SHA-256.
    """

    def __init__(self, remember: int = 8192):
        self._verified = Memo(remember)

    def validate_signature(self, signature: bytes, signed_data: bytes,
                           public_key_info: keys.PublicKeyInfo,
                           signature_algorithm: algos.SignedDigestAlgorithm,
                           context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT):
        key = (bytes(signature), hashlib.sha256(bytes(signed_data)).digest(),
               public_key_info.dump(), signature_algorithm.dump(), context.prehashed,
               context.contextual_md_algorithm)
        if self._verified.get(key):
            return None
        self._validate(signature, signed_data, public_key_info, signature_algorithm, context)
        self._verified.put(key, True)
        return None

    def _validate(self, signature, signed_data, public_key_info, signature_algorithm, context):
        oid = signature_algorithm["algorithm"].dotted
        by_oid = registry.find_by_signature_oid(oid)
        by_key = registry.find_by_spki(public_key_info)
        if by_oid is None or by_oid.library_verifies:
            if by_key is not None and not by_key.library_verifies:
                raise PycaInvalidSignature(f"{by_key.label} key used with signature algorithm {oid}")
            return super().validate_signature(signature, signed_data, public_key_info,
                                              signature_algorithm, context)
        if context.prehashed:
            raise PycaInvalidSignature(f"{by_oid.label} signatures need the message, not a digest")
        if by_key is not by_oid:
            raise PycaInvalidSignature(f"{by_oid.label} signature algorithm with another key")
        try:
            key = alg.load_public_key(public_key_info)
            key.verify(bytes(signature), bytes(signed_data))
        except alg.InvalidSignature as exc:
            raise PycaInvalidSignature(str(exc)) from None
        except Exception as exc:  # malformed key point etc.: still "does not verify"
            raise PycaInvalidSignature(f"{exc.__class__.__name__}: {exc}") from None


class Memo:
    """A bounded mapping, least recently used out first, shared by threads."""

    def __init__(self, size: int):
        self._size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                self._items.popitem(last=False)


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
        signature_validator=SIGNATURE_VALIDATOR, algorithm_usage_policy=DATED_POLICY)


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

    def add_to(self, report: Report, name: str) -> bool:
        """Record this result as check `name` (a verification.checks member) of a report."""
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
    ensure_parsed(cert)  # parse every field now, not deep inside the validator
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
    ensure_parsed(obj)
    return obj


_PARSED = Memo(4096)


def ensure_parsed(value) -> None:
    """Parse every field of an asn1crypto value (`.native`), so that a malformed part raises
    here; skipped for DER already seen to parse (the same certificates arrive in every
    document of an issuer, and `.native` of a certificate costs as much as an SM2 verify)."""
    key = (type(value).__name__, hashlib.sha256(value.dump()).digest())
    if _PARSED.get(key):
        return
    if isinstance(value, x509.Certificate):
        certs.parse_certificate(value)  # harmless unparsable extensions allowed (issue 15)
    else:
        value.native  # noqa: B018
    _PARSED.put(key, True)


def digest(value) -> bytes:
    """SHA-256 of an asn1crypto value's DER: its identity in cache keys."""
    return hashlib.sha256(value.dump()).digest()


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


# -- trust stores -------------------------------------------------------------------------------

# pyhanko-certvalidator's tolerance is 1 s; no remembered answer is used this close to a
# critical time.
_BAND = timedelta(seconds=5)


class TrustStore:
    """Trust roots, intermediates and CRLs, parsed once, and the paths found valid with them.

    Build one per trust set (`trust_store()` shares them by content); `validate` answers like
    `validate_path` with the same material.  Malformed material is not an exception here: it
    is reported as FORMAT_FAILURE by every validation, as `validate_path` always did.
    """

    def __init__(self, trust_roots: Iterable = (), intermediates: Iterable = (),
                 crls: Iterable = ()):
        self.roots: list[x509.Certificate] = []
        self.intermediates: list[x509.Certificate] = []
        self.crls: list[asn1_crl.CertificateList] = []
        self._errors: dict[str, str] = {}  # "certs" / "crls" -> first parse error
        try:
            self.roots = [_as_cert(c) for c in trust_roots]
            self.intermediates = [_as_cert(c) for c in intermediates]
        except Exception as exc:
            self._errors["certs"] = _describe(exc)
        try:
            self.crls = [_as_crl(c) for c in crls]
        except Exception as exc:
            self._errors["crls"] = _describe(exc)
        self._times = None if self._errors else _critical_times(self)
        self._valid = Memo(4096)
        _LIVE.add(self)

    # ---- building blocks for callers that drive pyhanko themselves (verification.pdf) ----
    def validation_context(self, at: datetime, extra_certs: Iterable = ()) -> ValidationContext:
        return make_validation_context(trust_roots=self.roots, at=at,
                                       intermediates=[*self.intermediates, *extra_certs],
                                       crls=self.crls)

    def known_valid(self, purpose, cert: x509.Certificate, at: datetime,
                    extra_certs: Iterable = ()):
        """What `remember_valid` stored for this certificate, purpose and extra certificates
        in the time bucket of `at`; None when nothing is remembered or may be used."""
        key = self._key(purpose, cert, at, extra_certs)
        return None if key is None else self._valid.get(key)

    def remember_valid(self, purpose, cert: x509.Certificate, at: datetime,
                       extra_certs: Iterable = (), value=True) -> None:
        """Record that validation of `cert` for `purpose` with this material plus
        `extra_certs` SUCCEEDED as of `at` (never call this for a failure)."""
        key = self._key(purpose, cert, at, extra_certs)
        if key is not None:
            self._valid.put(key, value)

    def _key(self, purpose, cert, at, extra_certs):
        bucket = self._bucket(at, [cert, *extra_certs])
        if bucket is None:
            return None
        try:
            return (purpose, digest(cert), tuple(digest(c) for c in extra_certs), bucket)
        except Exception:
            return None

    def _bucket(self, at: datetime, certs) -> tuple | None:
        """Which interval between critical times `at` falls in, or None if too close to one."""
        times = self._times
        if times is None:
            return None
        i = bisect.bisect_left(times, at)
        if (i < len(times) and times[i] - at <= _BAND) or (i > 0 and at - times[i - 1] <= _BAND):
            return None
        before = 0
        try:  # the leaf's and the document's own certificates are material too
            for c in certs:
                for t in _validity(c):
                    if abs(at - t) <= _BAND:
                        return None
                    before += t < at
        except Exception:
            return None
        return i, before

    # ---- validation ----
    def validate(self, cert, *, at: datetime, extra_intermediates: Iterable = (),
                 key_usage: Iterable[str] = (), extended_key_usage: Iterable[str] | None = None,
                 allow_ca_leaf: bool = False) -> PathResult:
        """`validate_path` with this store's material plus `extra_intermediates` (e.g. the
        certificates a signature carries).  Starts no event loop when the answer is known."""
        prepared = self._prepare(cert, at, extra_intermediates, key_usage, extended_key_usage,
                                 allow_ca_leaf)
        if isinstance(prepared, PathResult):
            return prepared
        return _run_sync(self._validate(*prepared))

    async def async_validate(self, cert, *, at: datetime, extra_intermediates: Iterable = (),
                             key_usage: Iterable[str] = (),
                             extended_key_usage: Iterable[str] | None = None,
                             allow_ca_leaf: bool = False) -> PathResult:
        prepared = self._prepare(cert, at, extra_intermediates, key_usage, extended_key_usage,
                                 allow_ca_leaf)
        if isinstance(prepared, PathResult):
            return prepared
        return await self._validate(*prepared)

    def _prepare(self, cert, at, extra_intermediates, key_usage, extended_key_usage,
                 allow_ca_leaf):
        if at.tzinfo is None:
            raise ValueError("`at` must be timezone-aware")
        # Parse errors in the order validate_path always reported them: leaf, trust
        # certificates, extra intermediates, CRLs.
        try:
            leaf = _as_cert(cert)
        except Exception as exc:
            return _fail("FORMAT_FAILURE", _describe(exc))
        if "certs" in self._errors:
            return _fail("FORMAT_FAILURE", self._errors["certs"])
        try:
            extras = [_as_cert(c) for c in extra_intermediates]
        except Exception as exc:
            return _fail("FORMAT_FAILURE", _describe(exc))
        if "crls" in self._errors:
            return _fail("FORMAT_FAILURE", self._errors["crls"])
        if leaf.ca and not allow_ca_leaf:
            return _fail("CHAIN_CONSTRAINTS_FAILURE",
                         "CA 证书不能用作终端实体证书 / a CA certificate cannot be used as a leaf")
        # The leaf's own window first: past its end, stale CRLs would otherwise mask "expired".
        if at > leaf.not_valid_after:
            return _fail("EXPIRED", f"notAfter {leaf.not_valid_after.isoformat()}")
        if at < leaf.not_valid_before:
            return _fail("NOT_YET_VALID", f"notBefore {leaf.not_valid_before.isoformat()}")
        purpose = ("path", frozenset(key_usage),
                   frozenset(extended_key_usage) if extended_key_usage else None)
        known = self.known_valid(purpose, leaf, at, extras)
        if known is not None:
            return dataclasses.replace(known, path=list(known.path))
        return leaf, extras, at, key_usage, extended_key_usage, purpose

    async def _validate(self, leaf, extras, at, key_usage, extended_key_usage, purpose):
        try:
            context = self.validation_context(at, extras)
            validator = CertificateValidator(leaf, validation_context=context)
            path = await validator.async_validate_usage(
                set(key_usage), set(extended_key_usage) if extended_key_usage else None)
        except Exception as exc:  # certvalidator signals every outcome by an exception
            return _fail(_classify(exc), str(exc)[:500])
        result = PathResult(True, None, "证书链有效 / certificate path is valid",
                            [p for p in path.iter_certs(include_root=True)])
        self.remember_valid(purpose, leaf, at, extras, result)
        return dataclasses.replace(result, path=list(result.path))


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {str(exc)[:200]}"


def _validity(cert) -> tuple[datetime, datetime]:
    v = cert["tbs_certificate"]["validity"]
    return v["not_before"].native, v["not_after"].native


def _critical_times(store: TrustStore) -> list[datetime] | None:
    """Every time pyhanko-certvalidator may compare `at` with, for this material."""
    times: set[datetime] = set()
    try:
        for cert in (*store.roots, *store.intermediates):
            times.update(_validity(cert))
        for crl in store.crls:
            tbs = crl["tbs_cert_list"]
            this_update = tbs["this_update"].native
            next_update = tbs["next_update"].native
            times.add(this_update)
            times.add(next_update if next_update is not None
                      else this_update + FRESHNESS_FALLBACK_VALIDITY_DEFAULT)
            for entry in tbs["revoked_certificates"] or ():
                times.add(entry["revocation_date"].native)
    except Exception:  # anything unexpected: remember nothing for this material
        return None
    return sorted(times)


_STORES = Memo(32)


def trust_store(trust_roots: Iterable = (), intermediates: Iterable = (),
                crls: Iterable = ()) -> TrustStore:
    """The TrustStore for this material, shared by every caller passing the same content."""
    material = (list(trust_roots), list(intermediates), list(crls))
    try:
        key = tuple(tuple(_content_digest(x) for x in part) for part in material)
    except TypeError:  # not certificates at all: a private store reports the format failure
        return TrustStore(*material)
    store = _STORES.get(key)
    if store is None:
        store = TrustStore(*material)
        _STORES.put(key, store)
    return store


def _content_digest(value) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b"raw" + hashlib.sha256(bytes(value)).digest()
    if isinstance(value, (x509.Certificate, asn1_crl.CertificateList)):
        return b"asn1" + digest(value)
    raise TypeError(type(value).__name__)


_LIVE: "weakref.WeakSet[TrustStore]" = weakref.WeakSet()


def forget() -> None:
    """Drop every remembered path, certificate parse and signature verification: the next
    validations run from scratch (benchmarks measure that "cold" case)."""
    global _PARSED
    for store in list(_LIVE):
        store._valid = Memo(4096)
    _PARSED = Memo(4096)
    SIGNATURE_VALIDATOR._verified = Memo(8192)


def anchored_context(cert: x509.Certificate, at: datetime) -> ValidationContext:
    """A context that trusts exactly `cert`.  Only for a certificate a TrustStore has just
    answered `known_valid` for (same purpose, same time bucket): it lets pyHanko's signature
    validation skip the path work whose outcome is already known."""
    return ValidationContext(trust_roots=[cert], moment=at, allow_fetching=False,
                             revocation_mode="soft-fail", signature_validator=SIGNATURE_VALIDATOR,
                             algorithm_usage_policy=DATED_POLICY)


async def async_validate_path(cert, *, trust_roots, intermediates=(), at: datetime, crls=(),
                              key_usage: Iterable[str] = (),
                              extended_key_usage: Iterable[str] | None = None,
                              allow_ca_leaf: bool = False) -> PathResult:
    """`validate_path` for callers already inside an event loop."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    return await trust_store(trust_roots, intermediates, crls).async_validate(
        cert, at=at, key_usage=key_usage, extended_key_usage=extended_key_usage,
        allow_ca_leaf=allow_ca_leaf)


def validate_path(cert, *, trust_roots, intermediates=(), at: datetime, crls=(),
                  key_usage: Iterable[str] = (), extended_key_usage: Iterable[str] | None = None,
                  allow_ca_leaf: bool = False) -> PathResult:
    """Validate `cert` (asn1crypto Certificate, DER or PEM) to one of `trust_roots` as of `at`.

    `key_usage`: required keyUsage names (e.g. {"digital_signature"}); `extended_key_usage`:
    required EKU names/OIDs (e.g. {"time_stamping"}).  Never raises for bad input: malformed
    certificates give FORMAT_FAILURE.
    """
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    return trust_store(trust_roots, intermediates, crls).validate(
        cert, at=at, key_usage=key_usage, extended_key_usage=extended_key_usage,
        allow_ca_leaf=allow_ca_leaf)


def _run_sync(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_on_new_loop(coro)
    # Called from inside a running loop (e.g. a sync helper in an async route): run apart.
    box: list = []
    thread = threading.Thread(target=lambda: box.append(run_on_new_loop(coro)))
    thread.start()
    thread.join()
    return box[0]


def run_on_new_loop(coro):
    """`asyncio.run` without its SIGINT handling: in the main thread, asyncio.run's signal
    bookkeeping formats the repr of the running task — arguments included, i.e. the whole
    trust material — which cost ~3 ms per verification (more than the path work left)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
