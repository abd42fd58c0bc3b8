"""Every change license-svc makes to a third-party library, in one list, applied by `install()`.

Why one explicit step: these changes are process-wide (asn1crypto's OID tables and name
comparison, pyHanko's PDF parser, the warnings filters), and most of them reach into private
names that a minor release may rename, which is why those libraries are pinned with `~=` in
pyproject.toml (docs/dependencies.md).  Applied as import side effects they ran whenever some
module happened to be imported first, and nothing could say whether they were active.  Now no
import patches anything; the programs call `install()` once at start-up: the CLI
(`license_svc.cli.main`), the service (`license_svc.bootstrap.bootstrap`, which `serve` and the
uvicorn worker factory both run before building the app), the bench scripts and
tests/conftest.py.  `install()` is idempotent and thread-safe: a patch is applied only when it is
not active, so a second call costs a few comparisons, and a call after `warnings.catch_warnings`
restored the filters puts the filter back.

Why here: `formats` is the bottom layer, so the service, the CLI, `signing` and `verification`
can all reach it without an upward import.  For the same reason the two speed-ups for PDF
verification moved down from `verification/pdf/` to `formats.fast_hex` and `formats.fast_names`:
they are pure functions of bytes and strings, with no verification policy, and the list that
installs them must be able to import them.  Both are imported only inside `install()`, after the
warnings filter is in place, because importing pyHanko's signing code warns.

Without `install()` (someone using `signing` or `verification` as a library): asn1crypto does not
know the SM2/SM3 OIDs, so building an SM2 key or signature fails with asn1crypto's "unknown
name" error and pyHanko cannot resolve SM3, so genuine SM2 PDFs do not verify.  Rather than let a
library user get a wrong verdict, the verifier's entry points that read a whole document
(`verification.dispatch.verify_bytes`/`verify_text`, `verification.pdf.verify_pdf`) call
`install()` themselves; every other caller is expected to call it once at start-up, as the
docstrings of `signing` and `verification` say.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Callable

from formats import oids

__all__ = ["Patch", "PATCHES", "install", "installed"]


@dataclass(frozen=True)
class Patch:
    name: str
    library: str
    apply: Callable[[], None]
    active: Callable[[], bool]


# pyHanko 0.38 imports `DSAPrivateKey` for its isinstance checks, and cryptography 51 warns on
# that import.  No DSA key is ever used here, nothing in this project can act on it, and the raw
# warning line would precede every CLI command's output.  Only that warning, only when pyHanko
# triggers it; the service's logging captures any other warning as a JSON record.
_DSA = dict(action="ignore", message="DSA is deprecated", module=r"pyhanko\.")


def _ignore_dsa_warning() -> None:
    warnings.filterwarnings(**_DSA)


def _dsa_warning_ignored() -> bool:
    return any(f[0] == _DSA["action"] and f[1] is not None and f[1].pattern == _DSA["message"]
               and f[3] is not None and f[3].pattern == _DSA["module"] for f in warnings.filters)


# asn1crypto 1.5 knows none of the GM/T OIDs, and pyHanko looks digest and signature names up
# through asn1crypto (pdf-notes B.2.2).  The ID classes have no public registration, so the
# names go into their private `_map` and, once asn1crypto has built it, `_reverse_map`.
def _oid_names():
    from asn1crypto import algos

    return ((algos.DigestAlgorithmId, oids.SM3, oids.SM3_NAME),
            (algos.SignedDigestAlgorithmId, oids.SM2_WITH_SM3, oids.SM2_SM3_NAME),
            (algos.SignedDigestAlgorithmId, oids.SM2_SIGN, oids.SM2_SIGN_NAME))


def _register_oids() -> None:
    from asn1crypto import keys

    for cls, oid, name in _oid_names():
        cls._map[oid] = name
        if cls._reverse_map is not None:
            cls._reverse_map[name] = oid
    if oids.SM2_CURVE not in keys.NamedCurve._map:
        keys.NamedCurve.register(oids.SM2_CURVE_NAME, oids.SM2_CURVE, 32)


def _oids_registered() -> bool:
    from asn1crypto import keys

    return (all(cls._map.get(oid) == name
                and (cls._reverse_map is None or cls._reverse_map.get(name) == oid)
                for cls, oid, name in _oid_names())
            and keys.NamedCurve._map.get(oids.SM2_CURVE) == oids.SM2_CURVE_NAME)


# asn1crypto reads emailAddress only as an IA5String and x500UniqueIdentifier only as a BIT
# STRING; certificates from other CAs (and `openssl req -utf8`) write them as other string
# types, which OpenSSL reads and whose signatures verify.  Name parsing, comparison and path
# building all go through NameTypeAndValue._oid_specs (issue 15; formats.certs says which
# certificates needed it).
def _name_specs():
    from asn1crypto import x509

    from formats.certs import LENIENT_NAME_SPECS

    return x509.NameTypeAndValue._oid_specs, {k: v[0] for k, v in LENIENT_NAME_SPECS.items()}


def _lenient_names() -> None:
    specs, ours = _name_specs()
    specs.update(ours)


def _names_lenient() -> bool:
    specs, ours = _name_specs()
    return all(specs.get(k) is v for k, v in ours.items())


# Some SM2 certificates (Tongsuo's tests, older GM tools) name the key algorithm by the SM2
# OID itself rather than id-ecPublicKey + the SM2 curve.  asn1crypto then has no type for the
# public key and no parameters spec, so the certificate does not parse; the point is read as
# for EC keys (formats.algorithms.sm2 accepts such keys).
def _sm2_key_oid_targets():
    from asn1crypto import keys

    return keys.PublicKeyInfo._spec_callbacks, keys.PublicKeyAlgorithm._oid_specs, keys


def _sm2_public_key_spec(info):
    from asn1crypto import keys

    if info["algorithm"]["algorithm"].dotted == oids.SM2_CURVE:
        return (keys.ECPointBitString, None)
    return keys.PublicKeyInfo._public_key_spec(info)


def _read_sm2_key_oid() -> None:
    callbacks, specs, keys = _sm2_key_oid_targets()
    callbacks["public_key"] = _sm2_public_key_spec
    specs[oids.SM2_CURVE] = keys.ECDomainParameters


def _sm2_key_oid_read() -> bool:
    callbacks, specs, keys = _sm2_key_oid_targets()
    return callbacks.get("public_key") is _sm2_public_key_spec and \
        specs.get(oids.SM2_CURVE) is keys.ECDomainParameters


def _replacements():
    """(owner, attribute, ours) for every function we put in a library's place."""
    from asn1crypto import x509
    from pyhanko.pdf_utils import generic

    from formats import fast_hex, fast_names

    return ((generic, "read_hex_string_from_stream", fast_hex.read_hex_string_from_stream),
            (x509.NameTypeAndValue, "_ldap_string_prep", fast_names.ldap_string_prep),
            (x509.RelativeDistinguishedName, "_get_types", fast_names.get_types),
            (x509.RelativeDistinguishedName, "_get_values", fast_names.get_values))


def _replacer(index: int, library: str, name: str) -> Patch:
    def apply() -> None:
        owner, attribute, ours = _replacements()[index]
        setattr(owner, attribute, ours)

    def active() -> bool:
        owner, attribute, ours = _replacements()[index]
        return vars(owner).get(attribute) is ours

    return Patch(name, library, apply, active)


# In order: the warnings filter first, before anything below imports pyHanko.
PATCHES: tuple[Patch, ...] = (
    Patch("warnings: ignore pyHanko's DSA deprecation warning", "pyhanko", _ignore_dsa_warning,
          _dsa_warning_ignored),
    Patch("asn1crypto: SM3, SM2-with-SM3 and SM2 curve OIDs", "asn1crypto", _register_oids,
          _oids_registered),
    _replacer(0, "pyhanko", "pyHanko generic.read_hex_string_from_stream: reads hex in chunks"),
    _replacer(1, "asn1crypto", "asn1crypto NameTypeAndValue._ldap_string_prep: remembered"),
    _replacer(2, "asn1crypto", "asn1crypto RelativeDistinguishedName._get_types: remembered"),
    _replacer(3, "asn1crypto", "asn1crypto RelativeDistinguishedName._get_values: remembered"),
    Patch("asn1crypto: emailAddress and x500UniqueIdentifier in any string type", "asn1crypto",
          _lenient_names, _names_lenient),
    Patch("asn1crypto: SM2 public keys under the SM2 OID as key algorithm", "asn1crypto",
          _read_sm2_key_oid, _sm2_key_oid_read),
)

_LOCK = threading.Lock()
# The library objects our patches were last checked on.  The verifiers' entry points call
# `install()` on every verification, so the usual case must cost next to nothing: when the
# modules and the warnings filter list are the very objects of the last full check, nothing
# can have undone a patch except code reaching into the same private names (which nothing in
# the project does), and the check is two identity comparisons.  `warnings.catch_warnings`
# restores a *new* filter list, so a call after it runs the full check and puts the filter back.
_checked: tuple | None = None


def _fingerprint() -> tuple:
    return (id(warnings.filters), len(warnings.filters))


def install() -> None:
    """Apply every patch that is not active.  Safe to call again, from any thread."""
    global _checked
    if _checked is not None and _checked == _fingerprint():
        return
    if not all(patch.active() for patch in PATCHES):
        with _LOCK:
            for patch in PATCHES:
                if not patch.active():
                    patch.apply()
    _checked = _fingerprint()


def installed() -> dict[str, bool]:
    """Which patches are active now, by name (for tests and diagnostics)."""
    with _LOCK:
        return {patch.name: patch.active() for patch in PATCHES}
