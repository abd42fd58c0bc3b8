"""The algorithm registry: one `AlgorithmSpec` per signature algorithm, found by any of its names.

Why: a signature algorithm has a name in every format the project speaks — the key store and
records ("sm2"), X.509/CMS/seal OIDs, asn1crypto and pyHanko names, COSE (EL1/EP1) and the
signed JSON envelope — and each producer and verifier needs the one that fits its format.
Keeping them in one record per algorithm means a module asks "which spec is this OID / this
key / this COSE alg?" instead of branching on SM2-versus-RSA, and a new algorithm is one spec
plus its key backend (`register`), with no other module touched.

A spec holds identifiers and the few operations whose encoding differs per algorithm (COSE's
raw signature form); the keys themselves (`PublicKey` / `PrivateKey` below) sign and verify in
the encoding X.509, CMS and seals use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

from formats.errors import UnsupportedAlgorithm


@runtime_checkable
class PublicKey(Protocol):
    """A verifying key.  `verify` takes the signature in its X.509/CMS/seal encoding and the
    message itself (the key hashes it as its algorithm prescribes); `verify_digest` takes the
    digest its algorithm signs.  Both raise InvalidSignature."""

    algorithm: str

    def spki_der(self) -> bytes: ...
    def verify(self, signature: bytes, message: bytes) -> None: ...
    def verify_digest(self, signature: bytes, digest: bytes) -> None: ...
    def max_signature_size(self) -> int: ...


@runtime_checkable
class PrivateKey(Protocol):
    algorithm: str
    public_key: PublicKey

    def sign(self, message: bytes) -> bytes: ...
    def sign_digest(self, digest: bytes) -> bytes: ...
    def pkcs8_der(self) -> bytes: ...


@dataclass(frozen=True)
class KeyBackend:
    """How an algorithm's keys are read, made and written.  `accepts_spki` / `accepts_pkcs8` get
    the asn1crypto AlgorithmIdentifier of a SubjectPublicKeyInfo / PrivateKeyInfo and say whether
    it is this algorithm's (raising KeyFormatError for a near miss, e.g. an EC key on another
    curve); the loaders then build the key (`options` e.g. the SM2 engine)."""

    accepts_spki: Callable[[object], bool]
    load_public: Callable[..., PublicKey]
    accepts_pkcs8: Callable[[object], bool]
    load_private: Callable[..., PrivateKey]
    generate: Callable[..., PrivateKey]
    dump_private: Callable[[PrivateKey, bytes | None], bytes]


@dataclass(frozen=True)
class AlgorithmSpec:
    name: str                     # key store, records, trust lists: "sm2", "rsa"
    label: str                    # shown to people: "SM2-SM3", "RSA-SHA256"
    signature_oid: str            # the signatureAlgorithm we write (X.509, CMS, seals)
    signature_oids: frozenset     # those accepted when verifying
    signature_params_null: bool   # whether signatureAlgorithm carries NULL parameters
    signed_digest_name: str       # asn1crypto's name of signature_oid = pyHanko's mechanism
    digest_name: str              # asn1crypto digest name (CMS, TSA imprint, seal dataHash)
    digest_oid: str
    digest: Callable[[bytes], bytes]
    cose_alg: int                 # COSE_Sign1 protected header alg (EL1/EP1)
    cose_label: str
    envelope_alg: str             # signed JSON envelope "alg"
    cose_sign: Callable[[PrivateKey, bytes], bytes]
    cose_verify: Callable[[PublicKey, bytes, bytes], None]
    # Whether pyca / pyhanko-certvalidator verify this algorithm's certificate and CMS
    # signatures themselves (RSA); if not (SM2), only this layer can, and a key of it used
    # under another algorithm's OID is refused rather than handed to them.
    library_verifies: bool = False
    # SignerInfo.signatureAlgorithm values CMS writers use for this algorithm's keys (RFC 5652
    # lets them name the key's algorithm instead of the signature's).
    cms_signature_oids: frozenset = frozenset()
    # Whether the signature's own hash is the CMS digestAlgorithm (RSA), or fixed by the
    # algorithm whatever the CMS names (SM2 hashes Z_A || M with SM3).
    signs_cms_digest: bool = False
    # Licence PDF signatures of this algorithm are 电子签章 and must carry the GB/T 38540 seal
    # (docs/pdf.md); others may.
    seal_bound: bool = False
    backend: KeyBackend = field(repr=False, compare=False, default=None)


_SPECS: dict[str, AlgorithmSpec] = {}


def register(spec: AlgorithmSpec) -> None:
    """Add an algorithm (a later spec of the same name replaces the earlier one)."""
    _SPECS[spec.name] = spec


def unregister(name: str) -> None:
    _SPECS.pop(name, None)


def specs() -> tuple[AlgorithmSpec, ...]:
    return tuple(_SPECS.values())


def names() -> tuple[str, ...]:
    return tuple(_SPECS)


def _unknown(what: str, value) -> UnsupportedAlgorithm:
    return UnsupportedAlgorithm(f"unsupported algorithm: {what} {value!r}",
                                f"不支持的算法：{what} {value!r}")


def by_name(name: str) -> AlgorithmSpec:
    try:
        return _SPECS[name]
    except (KeyError, TypeError):
        raise _unknown("key algorithm", name) from None


def find_by_name(name: str) -> AlgorithmSpec | None:
    return _SPECS.get(name) if isinstance(name, str) else None


def of_key(key) -> AlgorithmSpec:
    """The spec of a key object (public or private)."""
    return by_name(getattr(key, "algorithm", None))


def find_by_signature_oid(oid: str) -> AlgorithmSpec | None:
    for spec in _SPECS.values():
        if oid in spec.signature_oids:
            return spec
    return None


def find_by_cose_alg(value) -> AlgorithmSpec | None:
    for spec in _SPECS.values():
        if type(value) is int and spec.cose_alg == value:
            return spec
    return None


def find_by_envelope_alg(value) -> AlgorithmSpec | None:
    for spec in _SPECS.values():
        if spec.envelope_alg == value:
            return spec
    return None


def find_by_cms_signature_oid(oid: str) -> AlgorithmSpec | None:
    """The algorithm a CMS SignerInfo's signatureAlgorithm names (signature or key OID)."""
    for spec in _SPECS.values():
        if oid in spec.signature_oids or oid in spec.cms_signature_oids:
            return spec
    return None


def find_by_spki(info) -> AlgorithmSpec | None:
    """The registered algorithm of a SubjectPublicKeyInfo (asn1crypto), or None."""
    for spec in _SPECS.values():
        try:
            if spec.backend.accepts_spki(info["algorithm"]):
                return spec
        except Exception:  # a near miss (an EC key on another curve) or a malformed identifier
            continue
    return None


def find_by_digest_oid(oid: str) -> AlgorithmSpec | None:
    for spec in _SPECS.values():
        if spec.digest_oid == oid:
            return spec
    return None


def find_by_digest_name(name: str) -> AlgorithmSpec | None:
    """The algorithm whose signatures use this digest (the TSA picks its key by the imprint)."""
    for spec in _SPECS.values():
        if spec.digest_name == name:
            return spec
    return None
